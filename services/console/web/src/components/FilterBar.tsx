/**
 * The filters every view shares: time window, namespace, pod, workload, binary, kind and severity. Choices come from
 * the server's facets (what occurred in the window), plus whatever the address asked for.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { KNOWN_KINDS, SEVERITIES, orderedChoices } from '../domain/events.ts';
import { activeFilterCount, EMPTY_FILTERS, fromDateTimeInput, timeRange, toDateTimeInput, TIME_WINDOWS, type TimeWindow } from '../domain/filters.ts';
import { actions } from '../store/state.ts';
import { useDispatch, useSelector } from './store-context.ts';

const WINDOW_LABELS: Record<TimeWindow, string> = { '15m': 'Last 15 min', '1h': 'Last hour', '6h': 'Last 6 h', '24h': 'Last 24 h', custom: 'Custom…' };

function withCurrent(values: readonly string[], current: string): string[] {
  return current === '' || values.includes(current) ? [...values] : [current, ...values];
}

function MultiSelect(props: { label: string; name: string; choices: readonly string[]; selected: readonly string[]; onChange: (values: string[]) => void }) {
  const { selected } = props;
  const toggle = (value: string) => props.onChange(selected.includes(value) ? selected.filter((v) => v !== value) : [...selected, value]);
  const details = useRef<HTMLDetailsElement>(null);
  // An open menu closes when the person clicks anywhere else, as a select's list does.
  useEffect(() => {
    const closeOutside = (event: MouseEvent) => {
      if (details.current?.open && !details.current.contains(event.target as Node)) details.current.open = false;
    };
    document.addEventListener('click', closeOutside);
    return () => document.removeEventListener('click', closeOutside);
  }, []);
  return (
    <details class="multi" data-filter={props.name} ref={details}>
      <summary class={selected.length > 0 ? 'is-set' : ''}>
        {props.label}
        {selected.length > 0 ? `: ${selected.join(', ')}` : ''}
      </summary>
      <div class="multi-menu">
        {props.choices.map((value) => (
          <label key={value}>
            <input type="checkbox" checked={selected.includes(value)} onChange={() => toggle(value)} /> {value}
          </label>
        ))}
      </div>
    </details>
  );
}

export function FilterBar() {
  const filters = useSelector((s) => s.location.filters);
  const facets = useSelector((s) => s.facets);
  const now = useSelector((s) => s.now);
  const dispatch = useDispatch();
  const [binary, setBinary] = useState<string | null>(null);
  const set = (change: Parameters<typeof actions.setFilters>[0]) => dispatch(actions.setFilters(change));

  const namespaces = withCurrent(facets?.namespaces ?? [], filters.namespace);
  const pods = (facets?.pods ?? []).filter((p) => filters.namespace === '' || p.namespace === filters.namespace);
  const workloads = (facets?.workloads ?? []).filter((w) => filters.namespace === '' || w.namespace === filters.namespace);
  const podValue = filters.pod === '' ? '' : `${filters.namespace}/${filters.pod}`;
  const podChoices = pods.map((p) => `${p.namespace}/${p.name}`);
  const range = timeRange(filters, now);

  const chooseWindow = (window: TimeWindow) =>
    window === 'custom' ? set({ window, from: range.from, to: range.to }) : set({ window, from: null, to: null });

  return (
    <form
      class="filter-bar"
      aria-label="Filters"
      onSubmit={(e) => {
        e.preventDefault();
        if (binary !== null) set({ binary: binary.trim() });
      }}
    >
      <label class="field">
        <span>Time</span>
        <select name="window" value={filters.window} onChange={(e) => chooseWindow(e.currentTarget.value as TimeWindow)}>
          {TIME_WINDOWS.map((w) => (
            <option key={w} value={w}>
              {WINDOW_LABELS[w]}
            </option>
          ))}
        </select>
      </label>
      {filters.window === 'custom' && (
        <>
          <label class="field">
            <span>From (UTC)</span>
            <input type="datetime-local" name="from" value={toDateTimeInput(range.from)} onChange={(e) => set({ from: fromDateTimeInput(e.currentTarget.value) })} />
          </label>
          <label class="field">
            <span>To (UTC)</span>
            <input type="datetime-local" name="to" value={toDateTimeInput(range.to)} onChange={(e) => set({ to: fromDateTimeInput(e.currentTarget.value) })} />
          </label>
        </>
      )}
      <label class="field">
        <span>Namespace</span>
        <select name="namespace" value={filters.namespace} onChange={(e) => set({ namespace: e.currentTarget.value, pod: '', workload: '' })}>
          <option value="">all</option>
          {namespaces.map((ns) => (
            <option key={ns} value={ns}>
              {ns}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Pod</span>
        <select
          name="pod"
          value={podValue}
          onChange={(e) => {
            const value = e.currentTarget.value;
            const slash = value.indexOf('/');
            set(slash === -1 ? { pod: '' } : { namespace: value.slice(0, slash), pod: value.slice(slash + 1) });
          }}
        >
          <option value="">all</option>
          {withCurrent(podChoices, podValue).map((p) => (
            <option key={p} value={p}>
              {filters.namespace === '' ? p : p.slice(p.indexOf('/') + 1)}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Workload</span>
        <select name="workload" value={filters.workload} onChange={(e) => set({ workload: e.currentTarget.value })}>
          <option value="">all</option>
          {withCurrent([...new Set(workloads.map((w) => w.name))], filters.workload).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Binary</span>
        <input
          type="search"
          name="binary"
          placeholder="e.g. curl"
          list="binary-choices"
          value={binary ?? filters.binary}
          onInput={(e) => setBinary(e.currentTarget.value)}
          onBlur={() => {
            if (binary !== null && binary.trim() !== filters.binary) set({ binary: binary.trim() });
            setBinary(null);
          }}
        />
        <datalist id="binary-choices">
          {(facets?.binaries ?? []).slice(0, 200).map((b) => (
            <option key={b} value={b} />
          ))}
        </datalist>
      </label>
      <MultiSelect label="Kind" name="kind" choices={orderedChoices(KNOWN_KINDS, facets?.kinds ?? [])} selected={filters.kinds} onChange={(kinds) => set({ kinds })} />
      <MultiSelect
        label="Severity"
        name="severity"
        choices={orderedChoices(SEVERITIES, facets?.severities ?? [])}
        selected={filters.severities}
        onChange={(severities) => set({ severities })}
      />
      {activeFilterCount(filters) > 0 && (
        <button type="button" class="link" onClick={() => set({ ...EMPTY_FILTERS, window: filters.window, from: filters.from, to: filters.to })}>
          Clear filters
        </button>
      )}
    </form>
  );
}
