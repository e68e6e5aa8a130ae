import { formatValue } from './format';

/** One param or metric of every run, as the kernel sends it: numbers, or category codes
 * into `categories`; `null` where a run has no value. */
export interface IRunColumn {
  key: string;
  label: string;
  kind: 'param' | 'metric';
  type: 'number' | 'category';
  /** Drawn on a logarithmic axis (positive values spanning decades). */
  log?: boolean;
  goal?: 'min' | 'max';
  categories?: string[];
  values: (number | null)[];
}

/** The runs as compact columns: ids and names, then one column per param or metric. */
export interface IRunTable {
  ids: string[];
  names: string[];
  columns: IRunColumn[];
}

/** A tick: its position along the axis in [0, 1], and its label. */
export interface ITick {
  at: number;
  label: string;
}

export function emptyTable(): IRunTable {
  return { ids: [], names: [], columns: [] };
}

/** A table from the kernel's state, tolerant of missing parts (an old or empty state). */
export function tableOf(value: unknown): IRunTable {
  const t = (value ?? {}) as Partial<IRunTable>;
  const ids = Array.isArray(t.ids) ? t.ids : [];
  const names = Array.isArray(t.names) ? t.names : [];
  const columns = Array.isArray(t.columns)
    ? t.columns.filter(c => c && Array.isArray(c.values))
    : [];
  return { ids, names, columns };
}

/** The axis of one column: where each run's value sits in [0, 1] (0 at the bottom or the
 * left), ticks, and the value as text. Numbers are scaled between their extremes (log10
 * when the column says so), categories share the axis in equal bands. */
export class RunAxis {
  readonly log: boolean;
  private lo = 0;
  private hi = 1;

  constructor(readonly column: IRunColumn) {
    this.log = column.type === 'number' && !!column.log;
    if (column.type === 'number') {
      this.extent();
    }
  }

  get isCategory(): boolean {
    return this.column.type === 'category';
  }

  get label(): string {
    return this.log ? `${this.column.label} (log)` : this.column.label;
  }

  /** The axis position of run `i`'s value, or null when it has none. */
  pos(i: number): number | null {
    const v = this.column.values[i];
    if (v === null || v === undefined || !isFinite(v)) {
      return null;
    }
    if (this.isCategory) {
      const n = Math.max(1, this.column.categories?.length ?? 1);
      return (v + 0.5) / n;
    }
    return this.valuePos(v);
  }

  /** Where a number sits on this (numeric) axis, or null (a log axis and v <= 0). */
  valuePos(v: number): number | null {
    if (this.log && v <= 0) {
      return null;
    }
    const t = this.log ? Math.log10(v) : v;
    return (t - this.lo) / (this.hi - this.lo);
  }

  /** Run `i`'s value as text. */
  text(i: number): string {
    const v = this.column.values[i];
    if (v === null || v === undefined) {
      return '–';
    }
    if (this.isCategory) {
      return this.column.categories?.[v] ?? '–';
    }
    return formatValue(v);
  }

  /** About `count` ticks (categories: each, or every k-th when there are many). */
  ticks(count: number): ITick[] {
    if (this.isCategory) {
      const cats = this.column.categories ?? [];
      const every = Math.max(1, Math.ceil(cats.length / Math.max(1, count)));
      return cats
        .map((label, i) => ({ at: (i + 0.5) / cats.length, label }))
        .filter((_, i) => i % every === 0);
    }
    if (this.log) {
      const decades: ITick[] = [];
      for (let k = Math.ceil(this.lo); k <= Math.floor(this.hi); k++) {
        decades.push({
          at: (k - this.lo) / (this.hi - this.lo),
          label: formatValue(Math.pow(10, k))
        });
      }
      if (decades.length >= 2) {
        const every = Math.max(1, Math.ceil(decades.length / count));
        return decades.filter((_, i) => i % every === 0);
      }
      return niceTicks(Math.pow(10, this.lo), Math.pow(10, this.hi), count)
        .map(v => ({ at: this.valuePos(v), label: formatValue(v) }))
        .filter((t): t is ITick => t.at !== null && t.at >= 0 && t.at <= 1);
    }
    return niceTicks(this.lo, this.hi, count)
      .map(v => ({ at: this.valuePos(v) as number, label: formatValue(v) }))
      .filter(t => t.at >= 0 && t.at <= 1);
  }

  /** The range of the values present, padded a little so no point sits on the frame. */
  private extent(): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of this.column.values) {
      if (
        v === null ||
        v === undefined ||
        !isFinite(v) ||
        (this.log && v <= 0)
      ) {
        continue;
      }
      const t = this.log ? Math.log10(v) : v;
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
    if (!isFinite(lo)) {
      [lo, hi] = [0, 1];
    }
    if (hi - lo < 1e-12) {
      const half = this.log ? 0.5 : Math.abs(lo) * 0.1 || 0.5;
      [lo, hi] = [lo - half, hi + half];
    }
    const pad = (hi - lo) * 0.04;
    this.lo = lo - pad;
    this.hi = hi + pad;
  }
}

/** Round numbers between lo and hi, about `count` of them (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo;
  if (!(span > 0) || !isFinite(span)) {
    return [lo];
  }
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return out;
}

/** A stable offset in [-0.5, 0.5) per run, to spread points that share a category. */
export function jitter(i: number): number {
  const x = Math.sin((i + 1) * 12.9898) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}
