/** Alerts with what became of them: each kill's enforcement outcome (killed, killed in kernel, monitor only, …). */
import type { AlertRow } from '@stinger/console-api';
import { alertMessage, formatCount, formatPod } from '../domain/format.ts';
import { Empty, Loaded, OutcomeBadge, SeverityBadge, Time, ViewHeader } from './common.tsx';
import { useSelector } from './store-context.ts';

/** The alerts table; `compact` (the overview's) leaves out binary, count, mode and headings. */
export function AlertsTable(props: { alerts: readonly AlertRow[]; compact?: boolean }) {
  const { compact = false } = props;
  return (
    <table class={`table${compact ? ' compact' : ''}`}>
      {!compact && (
        <thead>
          <tr>
            <th>time</th>
            <th>severity</th>
            <th>rule · policy</th>
            <th>message</th>
            <th>pod</th>
            <th>binary</th>
            <th class="num">count</th>
            <th>mode · action</th>
            <th>outcome</th>
          </tr>
        </thead>
      )}
      <tbody>
        {props.alerts.map((a) => (
          <tr key={a.id} data-alert-id={a.id} data-rule={`${a.policy}/${a.rule}`}>
            <td class="nowrap">
              <Time ms={a.time} />
            </td>
            <td>
              <SeverityBadge severity={a.severity} />
            </td>
            <td>
              <div class="rule-cell">
                <span class="mono">{a.rule}</span>
                <span class="muted small">{a.policy}</span>
              </div>
            </td>
            <td class="ellipsis" title={a.message}>
              {alertMessage(a)}
              {!compact && a.tags.length > 0 && (
                <span class="tags">
                  {a.tags.map((t) => (
                    <span key={t} class="tag">
                      {t}
                    </span>
                  ))}
                </span>
              )}
            </td>
            <td class="mono nowrap" title={a.node}>
              {formatPod(a.namespace, a.pod)}
            </td>
            {!compact && (
              <>
                <td class="mono" title={`pid ${a.pid}`}>
                  {a.binary}
                </td>
                <td class="num">{formatCount(a.count)}</td>
                <td class="nowrap">
                  {a.mode} · {a.action}
                </td>
              </>
            )}
            <td>
              {a.enforcement || a.action === 'kill' ? (
                <OutcomeBadge outcome={a.enforcement?.outcome ?? null} title={a.enforcement?.reason ?? undefined} />
              ) : (
                <span class="muted">alert only</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AlertsView() {
  const alerts = useSelector((s) => s.alerts);
  return (
    <section class="view" data-view="alerts">
      <ViewHeader title="Alerts" subtitle="Newest first, with their enforcement outcome" resource={alerts} />
      <Loaded resource={alerts}>{(rows) => (rows.length === 0 ? <Empty>No alerts in this window.</Empty> : <AlertsTable alerts={rows} />)}</Loaded>
    </section>
  );
}
