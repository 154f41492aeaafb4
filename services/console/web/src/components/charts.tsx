/** The overview's charts, drawn as SVG from the geometry domain/charts.ts computes. */
import { barFractions, stackedChart } from '../domain/charts.ts';
import { formatCount, formatTime, formatTimeExact } from '../domain/format.ts';
import type { EventsOverTimeResponse } from '@stinger/console-api';
import { Empty } from './common.tsx';

// About the size it is drawn at on a 1280-pixel-wide page, so its text keeps the page's size.
const PLOT = { width: 1140, height: 170 };
const MARGIN = { left: 44, right: 8, top: 8, bottom: 22 };

/** `onPick(from, to)`: a bar was clicked; the caller narrows the window to that bar's time. */
export function EventsOverTimeChart(props: { data: EventsOverTimeResponse; now: number; onPick?: (from: number, to: number) => void }) {
  const { data, now, onPick } = props;
  const chart = stackedChart(data, PLOT);
  if (chart.bars.every((b) => b.total === 0)) return <Empty>No events in this window.</Empty>;
  const labelEvery = Math.max(1, Math.ceil(chart.bars.length / 8));
  const y = (value: number) => PLOT.height - (value / chart.max) * PLOT.height;
  return (
    <figure class="chart" aria-label="Events over time by kind">
      <svg viewBox={`0 0 ${PLOT.width + MARGIN.left + MARGIN.right} ${PLOT.height + MARGIN.top + MARGIN.bottom}`} role="img">
        <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
          {chart.ticks.map((tick) => (
            <g key={tick} class="tick">
              <line x1={0} x2={PLOT.width} y1={y(tick)} y2={y(tick)} />
              <text x={-6} y={y(tick)} dy="0.32em" text-anchor="end">
                {formatCount(tick)}
              </text>
            </g>
          ))}
          {chart.bars.map((bar, index) => (
            <g key={bar.time} class={onPick ? 'pickable' : ''} onClick={() => onPick?.(bar.time, bar.time + data.bucketMs)}>
              <title>{`${formatTimeExact(bar.time)}: ${bar.total} events${Object.entries(bar.kinds)
                .filter(([, count]) => count > 0)
                .sort((a, b) => b[1] - a[1])
                .map(([kind, count]) => `\n${kind}: ${count}`)
                .join('')}${onPick ? '\n(click: narrow the window to this bar)' : ''}`}</title>
              <rect class="hit" x={index * (PLOT.width / chart.bars.length)} y={0} width={PLOT.width / chart.bars.length} height={PLOT.height} />
              {bar.segments.map((s) => (
                <rect key={s.group} class={`fill-${s.group}`} x={s.x} y={s.y} width={s.width} height={Math.max(s.height, 0.5)} />
              ))}
              {index % labelEvery === 0 && (
                <text class="axis-label" x={bar.x + bar.width / 2} y={PLOT.height + 15} text-anchor="middle">
                  {formatTime(bar.time, now).slice(0, 5)}
                </text>
              )}
            </g>
          ))}
        </g>
      </svg>
      <figcaption class="legend">
        {chart.groups.map((g) => (
          <span key={g}>
            <i class={`swatch fill-${g}`} /> {g}
          </span>
        ))}
        <span class="muted">· {formatCount(data.bucketMs / 60_000)} min per bar, UTC</span>
      </figcaption>
    </figure>
  );
}

/** Horizontal bars: one row per item, the bar's length its value relative to the largest. */
export function BarList<T>(props: { rows: readonly T[]; label: (row: T) => string; sublabel?: (row: T) => string; value: (row: T) => number; valueText: (row: T) => string; empty: string }) {
  const { rows } = props;
  if (rows.length === 0) return <Empty>{props.empty}</Empty>;
  const fractions = barFractions(rows.map(props.value));
  return (
    <ol class="bar-list">
      {rows.map((row, i) => (
        <li key={i}>
          <div class="bar-text">
            <span class="bar-label" title={props.label(row)}>
              {props.label(row)}
            </span>
            {props.sublabel && <span class="bar-sublabel">{props.sublabel(row)}</span>}
            <span class="bar-value">{props.valueText(row)}</span>
          </div>
          <div class="bar-track">
            <div class="bar-fill" style={{ width: `${((fractions[i] ?? 0) * 100).toFixed(1)}%` }} />
          </div>
        </li>
      ))}
    </ol>
  );
}
