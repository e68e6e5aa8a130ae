import uPlot from 'uplot';

import { ICurve } from './series';
import { debiasedEma } from './smoothing';

export type XMode = 'step' | 'time' | 'relative';

/** What a panel draws for one curve: its x values, raw values and smoothed values. */
export interface ICurveColumns {
  curve: ICurve;
  x: number[];
  raw: (number | null)[];
  smooth: (number | null)[] | null;
}

/** x of each point: the step, the wall time in seconds, or seconds since the run began. */
export function xValues(
  curve: ICurve,
  mode: XMode,
  runStart: number
): number[] {
  if (mode === 'step') {
    return curve.steps;
  }
  const origin = mode === 'time' ? 0 : runStart;
  return curve.times.map(t => (t - origin) / 1000);
}

/** A curve as columns for drawing: sorted by x, one point per x (the last logged wins),
 * values that a log scale cannot show as gaps, smoothed when asked. */
export function curveColumns(
  curve: ICurve,
  mode: XMode,
  runStart: number,
  smoothing: number,
  logScale: boolean
): ICurveColumns {
  let x = xValues(curve, mode, runStart);
  let values: (number | null)[] = curve.values;
  if (!strictlyIncreasing(x)) {
    [x, values] = lastPerX(x, values);
  }
  const raw = values.map(v =>
    v === null || !isFinite(v) || (logScale && v <= 0) ? null : v
  );
  const smooth = smoothing > 0 ? debiasedEma(raw, smoothing) : null;
  return { curve, x, raw, smooth };
}

/** uPlot's data: one x column shared by every series. Curves on the same x values (one
 * run's metrics logged together) share it as is; others are joined, with gaps. */
export function alignedData(columns: ICurveColumns[]): uPlot.AlignedData {
  const tables = columns.map(c =>
    c.smooth ? [c.x, c.raw, c.smooth] : [c.x, c.raw]
  ) as unknown as uPlot.AlignedData[];
  if (columns.length === 0) {
    return [[]];
  }
  const first = columns[0].x;
  if (columns.every(c => sameNumbers(c.x, first))) {
    const out: (number | null)[][] = [first];
    tables.forEach(t => out.push(...(t.slice(1) as (number | null)[][])));
    return out as unknown as uPlot.AlignedData;
  }
  return uPlot.join(tables);
}

function strictlyIncreasing(x: number[]): boolean {
  for (let i = 1; i < x.length; i++) {
    if (!(x[i] > x[i - 1])) {
      return false;
    }
  }
  return true;
}

function lastPerX(
  x: number[],
  values: (number | null)[]
): [number[], (number | null)[]] {
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  const xs: number[] = [];
  const vs: (number | null)[] = [];
  for (const i of order) {
    if (xs.length && xs[xs.length - 1] === x[i]) {
      vs[vs.length - 1] = values[i];
    } else {
      xs.push(x[i]);
      vs.push(values[i]);
    }
  }
  return [xs, vs];
}

function sameNumbers(a: number[], b: number[]): boolean {
  if (a === b) {
    return true;
  }
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

/** The index of the point of `x` nearest to `value` (x sorted ascending). */
export function nearestIndex(x: number[], value: number): number {
  let lo = 0;
  let hi = x.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < value) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo > 0 && Math.abs(x[lo - 1] - value) < Math.abs(x[lo] - value)) {
    return lo - 1;
  }
  return lo;
}
