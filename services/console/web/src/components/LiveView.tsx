/** Live events: the newest first, streamed as they arrive (no reload); pausing holds new events until resumed. */
import { useState } from 'preact/hooks';
import type { EventRow } from '@stinger/console-api';
import { eventWhat, formatAncestry, formatPod } from '../domain/format.ts';
import { actions } from '../store/state.ts';
import { Empty, KindBadge, Time, ViewHeader } from './common.tsx';
import { useDispatch, useSelector } from './store-context.ts';

const CONNECTION_TEXT = { off: 'not connected', connecting: 'connecting…', open: 'live', retrying: 'reconnecting…' } as const;

function EventLine(props: { event: EventRow; open: boolean; onToggle: () => void }) {
  const { event } = props;
  return (
    <>
      <tr class={`event-row${props.open ? ' is-open' : ''}`} onClick={props.onToggle} data-kind={event.kind}>
        <td class="nowrap">
          <Time ms={event.time} />
        </td>
        <td>
          <KindBadge kind={event.kind} />
        </td>
        <td class="mono nowrap" title={event.node}>
          {formatPod(event.namespace, event.pod)}
        </td>
        <td class="mono" title={[event.binary, ...event.ancestry].join(' ← ')}>
          {formatAncestry(event.binary, event.ancestry.slice(0, 2))}
        </td>
        <td class="mono ellipsis" title={event.summary}>
          {eventWhat(event)}
        </td>
      </tr>
      {props.open && (
        <tr class="event-detail">
          <td colSpan={5}>
            <dl class="facts">
              <dt>node</dt>
              <dd>{event.node}</dd>
              <dt>pid</dt>
              <dd>{event.pid}</dd>
              <dt>binary</dt>
              <dd class="mono">{event.binary}</dd>
              {event.args && (
                <>
                  <dt>args</dt>
                  <dd class="mono">{event.args}</dd>
                </>
              )}
              <dt>ancestry</dt>
              <dd class="mono">{[event.binary, ...event.ancestry].join(' ← ')}</dd>
              {event.workload && (
                <>
                  <dt>workload</dt>
                  <dd>{event.workload}</dd>
                </>
              )}
              {event.container && (
                <>
                  <dt>container</dt>
                  <dd>{event.container}</dd>
                </>
              )}
            </dl>
            <pre class="detail-json">{JSON.stringify(event.detail, null, 2)}</pre>
          </td>
        </tr>
      )}
    </>
  );
}

export function LiveView() {
  const live = useSelector((s) => s.live);
  const dispatch = useDispatch();
  const [openId, setOpenId] = useState<string | null>(null);
  return (
    <section class="view" data-view="live">
      <ViewHeader title="Live events" subtitle="Newest first; updates as events arrive">
        <span class={`connection connection-${live.connection}`} role="status" title={live.error ?? ''}>
          <i class="dot" /> {CONNECTION_TEXT[live.connection]}
        </span>
        <span class="muted">{live.events.length} shown</span>
        <button type="button" onClick={() => dispatch(actions.setPaused(!live.paused))} aria-pressed={live.paused}>
          {live.paused ? `Resume${live.held.length > 0 ? ` (${live.held.length} new)` : ''}` : 'Pause'}
        </button>
      </ViewHeader>
      {live.events.length === 0 ? (
        <Empty>{live.connection === 'open' ? 'Waiting for events that match the filters…' : 'Connecting to the event stream…'}</Empty>
      ) : (
        <table class="table events">
          <thead>
            <tr>
              <th>time</th>
              <th>kind</th>
              <th>pod</th>
              <th>process ← parent</th>
              <th>what</th>
            </tr>
          </thead>
          <tbody>
            {live.events.map((event) => (
              <EventLine key={event.id} event={event} open={openId === event.id} onToggle={() => setOpenId(openId === event.id ? null : event.id)} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
