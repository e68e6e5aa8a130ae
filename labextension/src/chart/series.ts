/** The points of one curve (a run's metric), kept as parallel columns. */
export interface ICurve {
  /** Unique key, `run \u0000 metric`. */
  key: string;
  run: string;
  runLabel: string;
  metric: string;
  steps: number[];
  values: number[];
  /** Wall time of each point, epoch milliseconds. */
  times: number[];
}

/** A chunk of new points for one curve, as sent by the kernel or the REST API. */
export interface IPointsChunk {
  run: string;
  runLabel?: string;
  metric: string;
  steps: ArrayLike<number>;
  values: ArrayLike<number>;
  times: ArrayLike<number>;
}

export function curveKey(run: string, metric: string): string {
  return `${run}\u0000${metric}`;
}

/** Every curve a chart shows, growing as chunks arrive. */
export class CurveStore {
  readonly curves = new Map<string, ICurve>();

  /** Add a chunk's points; returns the curve. Points come in step order per curve, but a
   * chunk out of order is merged in its place. */
  append(chunk: IPointsChunk): ICurve {
    const key = curveKey(chunk.run, chunk.metric);
    let curve = this.curves.get(key);
    if (!curve) {
      curve = {
        key,
        run: chunk.run,
        runLabel: chunk.runLabel ?? chunk.run.slice(0, 8),
        metric: chunk.metric,
        steps: [],
        values: [],
        times: []
      };
      this.curves.set(key, curve);
    }
    const sorted =
      curve.steps.length === 0 ||
      chunk.steps.length === 0 ||
      chunk.steps[0] >= curve.steps[curve.steps.length - 1];
    for (let i = 0; i < chunk.steps.length; i++) {
      curve.steps.push(chunk.steps[i]);
      curve.values.push(chunk.values[i]);
      curve.times.push(chunk.times[i]);
    }
    if (!sorted) {
      sortCurve(curve);
    }
    return curve;
  }

  /** Replace a curve's points (a refined or downsampled view). */
  replace(chunk: IPointsChunk): ICurve {
    this.curves.delete(curveKey(chunk.run, chunk.metric));
    return this.append(chunk);
  }

  clear(): void {
    this.curves.clear();
  }

  metrics(): string[] {
    const seen = new Set<string>();
    this.curves.forEach(c => seen.add(c.metric));
    return [...seen];
  }

  pointCount(): number {
    let n = 0;
    this.curves.forEach(c => (n += c.steps.length));
    return n;
  }
}

function sortCurve(curve: ICurve): void {
  const order = curve.steps.map((_, i) => i);
  order.sort(
    (a, b) => curve.steps[a] - curve.steps[b] || curve.times[a] - curve.times[b]
  );
  curve.steps = order.map(i => curve.steps[i]);
  curve.values = order.map(i => curve.values[i]);
  curve.times = order.map(i => curve.times[i]);
}
