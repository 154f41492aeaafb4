/** Agents' health, one card per node: last report, event rate, losses, spool, sensors and kernel features. */
import type { AgentRow } from '@stinger/console-api';
import { formatAgo, formatBytes, formatCount } from '../domain/format.ts';
import { Empty, Loaded, ViewHeader } from './common.tsx';
import { useSelector } from './store-context.ts';

/** An agent that has not reported for this long is shown as silent. */
const SILENT_AFTER_MS = 60_000;

function AgentCard(props: { agent: AgentRow; now: number }) {
  const { agent, now } = props;
  const silent = now - agent.lastSeen > SILENT_AFTER_MS;
  const lost = (agent.lost ?? []).reduce((sum, l) => sum + l.count, 0);
  // The agent lists kernel features among its sensors as `feature:<name>`; they are shown apart, from kernelFeatures.
  const sensors = (agent.sensors ?? []).filter((s) => !s.name.startsWith('feature:'));
  const health = silent ? 'silent' : lost > 0 || agent.spool?.mode === 'spooling' ? 'degraded' : 'healthy';
  return (
    <div class={`panel agent${silent ? ' is-silent' : ''}`} data-node={agent.node}>
      <h2>
        <span class="mono">{agent.node}</span>
        <span class={`badge health-${health}`} data-health={health}>
          {health}
        </span>
      </h2>
      <dl class="facts">
        <dt>last report</dt>
        <dd>{formatAgo(agent.lastSeen, now)}</dd>
        <dt>agent id</dt>
        <dd class="mono small">{agent.agentId ?? '—'}</dd>
        <dt>events/s</dt>
        <dd>{agent.eventsPerSecond === null ? '—' : agent.eventsPerSecond.toFixed(1)}</dd>
        <dt>lost</dt>
        <dd>
          {agent.lost === null
            ? '—'
            : lost === 0
              ? 'none'
              : agent.lost
                  .filter((l) => l.count > 0)
                  .map((l) => `${formatCount(l.count)} ${l.sensor} (${l.cause})`)
                  .join(', ')}
        </dd>
        <dt>spool</dt>
        <dd>{agent.spool === null ? '—' : `${agent.spool.mode}${agent.spool.spooledBytes ? ` · ${formatBytes(agent.spool.spooledBytes)} waiting` : ''}`}</dd>
      </dl>
      {agent.sensors !== null && (
        <>
          <h3>Sensors</h3>
          <ul class="chips">
            {sensors.map((s) => (
              <li key={s.name} class={`chip sensor-${s.state}`} title={s.reason ?? undefined}>
                {s.name} <span class="muted">{s.state}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {agent.kernelFeatures && (
        <>
          <h3>Kernel features</h3>
          <ul class="chips">
            {Object.entries(agent.kernelFeatures).map(([name, available]) => (
              <li key={name} class={`chip feature-${available ? 'yes' : 'no'}`}>
                {available ? '✓' : '✗'} {name}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export function AgentsView() {
  const agents = useSelector((s) => s.agents);
  const now = useSelector((s) => s.now);
  return (
    <section class="view" data-view="agents">
      <ViewHeader title="Agents" subtitle="Health of the node agents: losses, spool, sensors, kernel features" resource={agents} />
      <Loaded resource={agents}>
        {(rows) =>
          rows.length === 0 ? (
            <Empty>No agent has reported in this window.</Empty>
          ) : (
            <div class="agent-grid">
              {rows.map((a) => (
                <AgentCard key={a.node} agent={a} now={now} />
              ))}
            </div>
          )
        }
      </Loaded>
    </section>
  );
}
