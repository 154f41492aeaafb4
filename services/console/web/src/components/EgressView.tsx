/** Egress: per pod, the outbound connections down to the command that made them — destination, port, bytes, binary. */
import { sumOf } from '../domain/grouping.ts';
import { baseName, countOf, formatBytes, formatCommand, formatCount, formatEndpoint } from '../domain/format.ts';
import { Empty, Loaded, ViewHeader } from './common.tsx';
import { PodGroups, SeenCells } from './PodGroups.tsx';
import { useSelector } from './store-context.ts';

const COLUMNS = ['destination', 'proto', 'binary', 'command', 'ancestry', 'conns', 'bytes', 'first seen', 'last seen'];

export function EgressView() {
  const egress = useSelector((s) => s.egress);
  return (
    <section class="view" data-view="egress">
      <ViewHeader title="Egress" subtitle="Outbound connections per pod, down to the command" resource={egress} />
      <Loaded resource={egress}>
        {(rows) =>
          rows.length === 0 ? (
            <Empty>No outbound connections in this window.</Empty>
          ) : (
            <PodGroups
              rows={rows}
              columns={COLUMNS}
              summary={(group) => {
                const bytes = sumOf(group, (r) => r.bytes);
                const destinations = new Set(group.map((r) => formatEndpoint(r.daddr, r.dport))).size;
                return [countOf(sumOf(group, (r) => r.connections) ?? 0, 'connection'), ...(bytes === null ? [] : [formatBytes(bytes)]), countOf(destinations, 'destination')].join(' · ');
              }}
              cells={(row) => (
                <>
                  <td class="mono nowrap">{formatEndpoint(row.daddr, row.dport)}</td>
                  <td>{row.protocol}</td>
                  <td class="mono">{row.binary}</td>
                  <td class="mono ellipsis" title={formatCommand(row.binary, row.args)}>
                    {formatCommand(row.binary, row.args)}
                  </td>
                  <td class="mono ancestry" title={row.ancestry.join(' ← ')}>
                    {row.ancestry.length === 0 ? '—' : row.ancestry.map(baseName).join(' ← ')}
                  </td>
                  <td class="num">{formatCount(row.connections)}</td>
                  <td class="num">{formatBytes(row.bytes)}</td>
                  <SeenCells firstSeen={row.firstSeen} lastSeen={row.lastSeen} />
                </>
              )}
            />
          )
        }
      </Loaded>
    </section>
  );
}
