/**
 * File access: which pods touched a file (or any file under a prefix) and how — binary, process ancestry, syscall
 * and flags, access, count, how much went through the opens (from the agent's close events), first and last seen,
 * and the kill when a policy stopped it.
 */
import { useState } from 'preact/hooks';
import { sumOf } from '../domain/grouping.ts';
import { baseName, countOf, formatCount, formatFileIo, formatOutcome } from '../domain/format.ts';
import { actions } from '../store/state.ts';
import { Empty, Loaded, OutcomeBadge, ViewHeader } from './common.tsx';
import { PodGroups, SeenCells } from './PodGroups.tsx';
import { useDispatch, useSelector } from './store-context.ts';

const COLUMNS = ['binary', 'ancestry', 'syscall', 'flags', 'access', 'count', 'through it', 'first seen', 'last seen', 'kill'];

export function FileAccessView() {
  const files = useSelector((s) => s.files);
  const path = useSelector((s) => s.location.path);
  const pathPrefix = useSelector((s) => s.location.pathPrefix);
  const dispatch = useDispatch();
  const [draft, setDraft] = useState<string | null>(null);
  return (
    <section class="view" data-view="files">
      <ViewHeader title="File access" subtitle="Which pods accessed a file, and how" resource={files}>
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (draft !== null && draft.trim() !== '') dispatch(actions.setFilePath(draft.trim(), pathPrefix));
            setDraft(null);
          }}
        >
          <input type="text" name="path" class="mono path-input" aria-label="File path" value={draft ?? path} onInput={(e) => setDraft(e.currentTarget.value)} />
          <label class="check">
            <input type="checkbox" name="pathPrefix" checked={pathPrefix} onChange={(e) => dispatch(actions.setFilePath(draft?.trim() || path, e.currentTarget.checked))} /> prefix
          </label>
          <button type="submit">Show</button>
        </form>
      </ViewHeader>
      <Loaded resource={files}>
        {(rows) =>
          rows.length === 0 ? (
            <Empty>
              Nothing accessed <code>{path}</code>
              {pathPrefix ? ' or anything under it' : ''} in this window.
            </Empty>
          ) : (
            <PodGroups
              rows={rows}
              columns={[...(pathPrefix ? ['path'] : []), ...COLUMNS]}
              summary={(group) => countOf(sumOf(group, (r) => r.count) ?? 0, 'access', 'accesses')}
              cells={(row) => (
                <>
                  {pathPrefix && <td class="mono">{row.path}</td>}
                  <td class="mono" title={row.binary}>
                    {row.binary}
                  </td>
                  <td class="mono ancestry" title={row.ancestry.join(' ← ')}>
                    {row.ancestry.length === 0 ? '—' : row.ancestry.map(baseName).join(' ← ')}
                  </td>
                  <td class="mono">{row.op}</td>
                  <td class="mono small">{row.flags || '—'}</td>
                  <td>
                    <span class={`badge access access-${row.access}`}>{row.access}</span>
                  </td>
                  <td class="num">{formatCount(row.count)}</td>
                  <td class="small nowrap" data-cell="io">
                    {row.io ? formatFileIo(row.io) : <span class="muted">—</span>}
                  </td>
                  <SeenCells firstSeen={row.firstSeen} lastSeen={row.lastSeen} />
                  <td>
                    {row.kill ? (
                      <span class="nowrap" title={`${row.kill.policy}/${row.kill.rule} · ${formatOutcome(row.kill.outcome)}`}>
                        <OutcomeBadge outcome={row.kill.outcome} /> <span class="muted small">{row.kill.rule}</span>
                      </span>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                </>
              )}
            />
          )
        }
      </Loaded>
    </section>
  );
}
