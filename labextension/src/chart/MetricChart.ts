import { curveColumns, ICurveColumns, nearestIndex, XMode } from './align';
import { Controls, IViewSettings, Legend } from './controls';
import { formatDuration, formatValue, formatWallTime } from './format';
import { IPanelContext, Panel } from './panel';
import { CurveStore, ICurve, IPointsChunk } from './series';
import { PALETTE, readTheme, watchTheme } from './theme';

export interface IChartOptions extends IViewSettings {
  /** Which way each metric improves, for the best-so-far marker (default from its name). */
  goals: Record<string, 'min' | 'max'>;
  /** Height of each panel in CSS pixels. */
  height: number;
  /** Show the control bar. */
  controls: boolean;
  /** Offer the choice between panels and overlay (pointless for a single metric). */
  layoutControl: boolean;
  /** Metrics to show, in this order (default: every metric, in arrival order). */
  metrics: string[] | null;
  /** Runs to show (default: every run). */
  runs: string[] | null;
  /** What a step counts, named on the x axis and in the read-out ("step", "trial"). */
  stepLabel: string;
  /** A person zoomed to [min, max] on a chart `width` pixels wide. */
  onZoom?: (min: number, max: number, width: number) => void;
  /** A person changed a setting from the control bar. */
  onSettings?: (settings: Partial<IViewSettings>) => void;
}

const DEFAULTS: IChartOptions = {
  x: 'step',
  smoothing: 0,
  logScale: false,
  layout: 'panels',
  goals: {},
  height: 200,
  controls: true,
  layoutControl: true,
  metrics: null,
  runs: null,
  stepLabel: 'step'
};

/**
 * Metric curves drawn in the browser: one panel per metric or all overlaid, several runs
 * per panel, a hover read-out (step, value, wall time, time since the run began), drag to
 * zoom and double-click to reset, debiased EMA smoothing with the raw curve faint, log
 * scale, the best value so far marked, legend toggles, and the page's theme. Points are
 * appended as they arrive; each animation frame draws what arrived since the last one.
 */
export class MetricChart {
  readonly root: HTMLDivElement;
  readonly store = new CurveStore();
  private options: IChartOptions;
  private panels = new Map<string, Panel>();
  private panelBox: HTMLDivElement;
  private readout: HTMLDivElement;
  private message: HTMLDivElement;
  private legend: Legend;
  private controls: Controls | null = null;
  private hidden = new Set<string>();
  private runStarts = new Map<string, number>();
  private runOrder: string[] = [];
  private frame = 0;
  private structural = true;
  private generation = 0;
  private stopWatching: () => void;
  private resizer: ResizeObserver;
  private theme = readTheme(document.body);
  /** Frames drawn, and the time the last one took (read by tests and benchmarks). */
  draws = 0;
  lastDrawMs = 0;

  constructor(host: HTMLElement, options: Partial<IChartOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.root = document.createElement('div');
    this.root.className = 'matih-chart-root';
    this.message = div('matih-chart-message');
    this.message.setAttribute('role', 'status');
    this.panelBox = div('matih-chart-panels');
    this.readout = div('matih-chart-readout');
    this.readout.setAttribute('aria-live', 'polite');
    this.legend = new Legend(key => this.toggle(key));
    if (this.options.controls) {
      this.controls = new Controls(
        this.options,
        s => {
          this.set(s);
          this.options.onSettings?.(s);
        },
        () => this.resetZoom(),
        this.options.layoutControl
      );
      this.root.append(this.controls.el);
    }
    this.root.append(this.message, this.panelBox, this.readout, this.legend.el);
    host.append(this.root);
    this.theme = readTheme(this.root);
    this.stopWatching = watchTheme(() => {
      this.theme = readTheme(this.root);
      this.schedule(true);
    });
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.root);
  }

  /** Add new points (the kernel streams only what is new). */
  append(chunks: IPointsChunk[]): void {
    chunks.forEach(c => this.track(this.store.append(c)));
    this.schedule(false);
  }

  /** Replace curves' points (a downsampled or refined view of them). */
  replace(chunks: IPointsChunk[]): void {
    chunks.forEach(c => this.track(this.store.replace(c)));
    this.schedule(false);
  }

  clear(): void {
    this.store.clear();
    this.runStarts.clear();
    this.runOrder = [];
    this.schedule(true);
  }

  /** Change settings (from the widget's state, or the control bar). */
  set(settings: Partial<IChartOptions>): void {
    this.options = { ...this.options, ...settings };
    this.controls?.show(this.options);
    this.schedule(true);
  }

  get settings(): IChartOptions {
    return this.options;
  }

  /** A line above the chart: its owner's status (a run's name and state, "waiting for
   * metrics…") or an error; empty hides it. */
  setMessage(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
    this.message.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  }

  resetZoom(): void {
    this.panels.forEach(p => (p.zoomed = false));
    this.schedule(false);
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.stopWatching();
    this.resizer.disconnect();
    this.panels.forEach(p => p.destroy());
    this.root.remove();
  }

  private track(curve: ICurve): void {
    if (!this.runStarts.has(curve.run)) {
      this.runOrder.push(curve.run);
    }
    const first = curve.times.length
      ? Math.min(curve.times[0], curve.times[curve.times.length - 1])
      : Infinity;
    this.runStarts.set(
      curve.run,
      Math.min(this.runStarts.get(curve.run) ?? Infinity, first)
    );
  }

  private schedule(structural: boolean): void {
    this.structural = this.structural || structural;
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    }
  }

  private metrics(): string[] {
    const present = this.store.metrics();
    const wanted = this.options.metrics;
    return wanted ? wanted.filter(m => present.includes(m)) : present;
  }

  private draw(): void {
    if (this.structural) {
      this.generation += 1; // settings or theme changed: every panel builds anew
    }
    this.structural = false;
    const o = this.options;
    const groups =
      o.layout === 'overlay'
        ? [{ key: '*', title: '', metrics: this.metrics() }]
        : this.metrics().map(m => ({ key: m, title: m, metrics: [m] }));
    const wanted = new Set(
      groups.filter(g => g.metrics.length).map(g => g.key)
    );
    this.panels.forEach((p, key) => {
      if (!wanted.has(key)) {
        p.destroy();
        this.panels.delete(key);
      }
    });
    const width = this.width();
    for (const g of groups) {
      if (!g.metrics.length) {
        continue;
      }
      let panel = this.panels.get(g.key);
      if (!panel) {
        panel = new Panel(g.key, g.title, this.panelContext());
        this.panels.set(g.key, panel);
      }
      this.panelBox.append(panel.el);
      const columns = this.curvesOf(g.metrics).map(c =>
        curveColumns(
          c,
          o.x,
          this.runStarts.get(c.run) ?? 0,
          o.smoothing,
          o.logScale
        )
      );
      panel.update(
        columns,
        width,
        `${this.generation}/${this.signature(columns)}`
      );
    }
    this.showLegend();
    this.root.dataset.points = String(this.store.pointCount());
  }

  /** What forces a new uPlot: the curves and whether each is smoothed. */
  private signature(columns: ICurveColumns[]): string {
    return columns.map(c => `${c.curve.key}:${c.smooth ? 1 : 0}`).join('|');
  }

  private curvesOf(metrics: string[]): ICurve[] {
    const out: ICurve[] = [];
    const only = this.options.runs?.length ? new Set(this.options.runs) : null;
    for (const run of this.runOrder) {
      if (only && !only.has(run)) {
        continue;
      }
      for (const m of metrics) {
        const c = this.store.curves.get(`${run}\u0000${m}`);
        if (c) {
          out.push(c);
        }
      }
    }
    return out;
  }

  /** Legend entries: runs when each panel holds one metric, else each curve. */
  private entryKey(c: ICurve): string {
    return this.options.layout === 'overlay' && this.metrics().length > 1
      ? c.key
      : c.run;
  }

  private entryLabel(c: ICurve): string {
    const byCurve = this.entryKey(c) === c.key;
    const many = this.runOrder.length > 1;
    if (byCurve) {
      return many ? `${c.runLabel} · ${c.metric}` : c.metric;
    }
    return c.runLabel;
  }

  private colorOf(c: ICurve): string {
    const key = this.entryKey(c);
    const keys = this.legendEntries().map(e => e.key);
    return PALETTE[Math.max(0, keys.indexOf(key)) % PALETTE.length];
  }

  private legendEntries(): { key: string; label: string; curve: ICurve }[] {
    const seen = new Map<
      string,
      { key: string; label: string; curve: ICurve }
    >();
    for (const c of this.curvesOf(this.metrics())) {
      const key = this.entryKey(c);
      if (!seen.has(key)) {
        seen.set(key, { key, label: this.entryLabel(c), curve: c });
      }
    }
    return [...seen.values()];
  }

  private showLegend(): void {
    const entries = this.legendEntries();
    this.legend.show(
      entries.map((e, i) => ({
        key: e.key,
        label: e.label,
        color: PALETTE[i % PALETTE.length],
        shown: !this.hidden.has(e.key)
      }))
    );
  }

  private toggle(key: string): void {
    if (this.hidden.has(key)) {
      this.hidden.delete(key);
    } else {
      this.hidden.add(key);
    }
    const show = !this.hidden.has(key);
    this.panels.forEach(p =>
      p.columns.forEach((c, i) => {
        if (this.entryKey(c.curve) === key) {
          p.setVisible(i, show);
        }
      })
    );
    this.showLegend();
  }

  /** What panels read from the chart; getters, so a panel always sees the current
   * settings and theme. */
  private panelContext(): IPanelContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const chart = this;
    return {
      get theme() {
        return chart.theme;
      },
      get x() {
        return chart.options.x;
      },
      get stepLabel() {
        return chart.options.stepLabel;
      },
      get logScale() {
        return chart.options.logScale;
      },
      get height() {
        return chart.options.height;
      },
      get goals() {
        return chart.options.goals;
      },
      color: c => this.colorOf(c.curve),
      hidden: c => this.hidden.has(this.entryKey(c.curve)),
      label: c => this.entryLabel(c.curve),
      onCursor: (p, idx) => this.showReadout(p, idx),
      onZoom: (p, min, max) => this.zoomed(p, min, max),
      onReset: () => this.resetZoom(),
      onDrawn: ms => {
        this.draws += 1;
        this.lastDrawMs = ms;
        this.root.dataset.draws = String(this.draws);
        this.root.dataset.lastDrawMs = ms.toFixed(3);
      }
    };
  }

  /** Every panel shows the same x range. */
  private zoomed(source: Panel, min: number, max: number): void {
    this.panels.forEach(p => {
      if (p !== source && p.plot) {
        p.zoomed = true;
        p.plot.setScale('x', { min, max });
      }
    });
    this.options.onZoom?.(min, max, this.width());
  }

  private showReadout(panel: Panel, idx: number | null): void {
    const u = panel.plot;
    if (!u || idx === null) {
      this.readout.textContent = '';
      return;
    }
    const x = u.data[0][idx];
    const lines = panel.columns
      .filter(c => !this.hidden.has(this.entryKey(c.curve)))
      .map(c => this.describePoint(c, x));
    this.readout.replaceChildren(
      ...lines.map(t => {
        const row = div('matih-chart-readout-row');
        row.textContent = t;
        return row;
      })
    );
  }

  private describePoint(c: ICurveColumns, x: number): string {
    const i = nearestIndex(c.x, x);
    const curve = c.curve;
    const at = this.options.x === 'step' ? curve.steps.indexOf(c.x[i]) : i;
    const j = at < 0 ? i : at;
    const time = curve.times[j];
    const start = this.runStarts.get(curve.run) ?? time;
    const smooth = c.smooth ? ` (smoothed ${formatValue(c.smooth[i])})` : '';
    return (
      `${this.entryLabel(curve)}: ${formatValue(c.raw[i])}${smooth} · ${this.options.stepLabel} ${curve.steps[j]}` +
      ` · ${formatWallTime(time)} · +${formatDuration((time - start) / 1000)}`
    );
  }

  private width(): number {
    return Math.max(200, Math.floor(this.root.clientWidth || 480) - 4);
  }

  private resize(): void {
    const w = this.width();
    this.panels.forEach(p => p.resize(w));
  }
}

function div(className: string): HTMLDivElement {
  const el = document.createElement('div');
  el.className = className;
  return el;
}

export type { IPointsChunk, XMode };
