/** Small pieces every view uses: the status line of fetched data, empty states, badges, times. */
import type { ComponentChildren } from 'preact';
import { formatAgo, formatTime, formatTimeExact, outcomeTone, formatOutcome } from '../domain/format.ts';
import { kindGroup } from '../domain/events.ts';
import type { Resource } from '../store/state.ts';
import { useSelector } from './store-context.ts';

export function ViewHeader(props: { title: string; subtitle?: string; resource?: Resource<unknown>; children?: ComponentChildren }) {
  const now = useSelector((s) => s.now);
  const { resource } = props;
  return (
    <div class="view-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p class="subtitle">{props.subtitle}</p>}
      </div>
      <div class="view-tools">
        {props.children}
        {resource && (
          <span class={`fetch-status${resource.error ? ' is-error' : ''}`} role="status">
            {resource.error
              ? `error: ${resource.error}`
              : resource.updatedAt === null
                ? 'loading…'
                : `updated ${formatAgo(resource.updatedAt, now)}${resource.loading ? ' · refreshing' : ''}`}
          </span>
        )}
      </div>
    </div>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

export function Time(props: { ms: number }) {
  const now = useSelector((s) => s.now);
  return (
    <time dateTime={new Date(props.ms).toISOString()} title={formatTimeExact(props.ms)}>
      {formatTime(props.ms, now)}
    </time>
  );
}

export function KindBadge(props: { kind: string }) {
  return <span class={`badge kind kind-${kindGroup(props.kind)}`}>{props.kind}</span>;
}

export function SeverityBadge(props: { severity: string }) {
  return <span class={`badge severity severity-${props.severity}`}>{props.severity}</span>;
}

/** An enforcement outcome, coloured by what it means (stopped, allowed, failed); `pending` when none yet. */
export function OutcomeBadge(props: { outcome: string | null; title?: string }) {
  const tone = outcomeTone(props.outcome);
  return (
    <span class={`badge outcome outcome-${tone}`} title={props.title} data-outcome={props.outcome ?? 'pending'}>
      {props.outcome === null ? 'pending' : formatOutcome(props.outcome)}
    </span>
  );
}

/** Shows the first page of a fetched view's data, or why there is none. */
export function Loaded<T>(props: { resource: Resource<T>; children: (data: T) => ComponentChildren }) {
  const { resource } = props;
  if (resource.data === null) return <Empty>{resource.error ? `Could not load: ${resource.error}` : 'Loading…'}</Empty>;
  return <>{props.children(resource.data)}</>;
}
