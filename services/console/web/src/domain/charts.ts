/**
 * Geometry of the overview's charts, drawn as plain SVG by the components: stacked bars of events over time by
 * kind group, horizontal bars for top files and talkers, and round axis ticks. Pure; coordinates are in the
 * chart's own units (0..width, 0..height, y down).
 */
import type { EventsOverTimeResponse } from '@stinger/console-api';
import { kindGroup, type KindGroup } from './events.ts';

/** Groups in stacking order, bottom first. */
export const STACK_ORDER: readonly KindGroup[] = ['process', 'file', 'network', 'privilege', 'namespace', 'kernel', 'other'];

export interface StackSegment {
  readonly group: KindGroup;
  readonly count: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface StackedBar {
  readonly time: number;
  readonly total: number;
  /** The bucket's counts per kind, as the server gave them (the segments add them up per group). */
  readonly kinds: Readonly<Record<string, number>>;
  readonly x: number;
  readonly width: number;
  readonly segments: readonly StackSegment[];
}

export interface StackedChart {
  readonly bars: readonly StackedBar[];
  /** The y axis' top value (a round number at or above the highest bar). */
  readonly max: number;
  readonly ticks: readonly number[];
  /** Groups that occur at all, in stacking order (the legend). */
  readonly groups: readonly KindGroup[];
}

/** Round tick values from 0 to at least `max`, about `count` of them (1, 2 or 5 times a power of ten apart). */
export function niceTicks(max: number, count = 4): number[] {
  if (max <= 0) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) {
    ticks.push(Math.round(v * 1e9) / 1e9);
    if (v >= max) break;
  }
  return ticks;
}

export function stackedChart(data: EventsOverTimeResponse, size: { width: number; height: number }): StackedChart {
  const perBucket = data.buckets.map((bucket) => {
    const byGroup = new Map<KindGroup, number>();
    for (const [kind, count] of Object.entries(bucket.counts)) byGroup.set(kindGroup(kind), (byGroup.get(kindGroup(kind)) ?? 0) + count);
    return { time: bucket.time, kinds: bucket.counts, byGroup };
  });
  const totals = perBucket.map((b) => [...b.byGroup.values()].reduce((a, c) => a + c, 0));
  const ticks = niceTicks(Math.max(0, ...totals));
  const max = ticks[ticks.length - 1] ?? 1;
  const slot = perBucket.length === 0 ? 0 : size.width / perBucket.length;
  const barWidth = Math.max(1, slot * 0.8);
  const present = new Set<KindGroup>();
  const bars = perBucket.map((bucket, index): StackedBar => {
    const x = index * slot + (slot - barWidth) / 2;
    let y = size.height;
    const segments: StackSegment[] = [];
    for (const group of STACK_ORDER) {
      const count = bucket.byGroup.get(group) ?? 0;
      if (count === 0) continue;
      present.add(group);
      const height = (count / max) * size.height;
      y -= height;
      segments.push({ group, count, x, y, width: barWidth, height });
    }
    return { time: bucket.time, total: totals[index] ?? 0, kinds: bucket.kinds, x, width: barWidth, segments };
  });
  return { bars, max, ticks, groups: STACK_ORDER.filter((g) => present.has(g)) };
}

/** Each value as a fraction of the largest (0..1), for horizontal bars; all 0 when every value is 0. */
export function barFractions(values: readonly number[]): number[] {
  const max = Math.max(0, ...values);
  return values.map((v) => (max === 0 ? 0 : v / max));
}
