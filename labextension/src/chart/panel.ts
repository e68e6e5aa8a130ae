import uPlot from 'uplot';

import { alignedData, ICurveColumns, XMode } from './align';
import { bestIndex, defaultGoal } from './smoothing';
import { ITheme } from './theme';

/** What a panel needs from its chart to draw and to report back. */
export interface IPanelContext {
  theme: ITheme;
  x: XMode;
  stepLabel: string;
  logScale: boolean;
  height: number;
  goals: Record<string, 'min' | 'max'>;
  color(columns: ICurveColumns): string;
  hidden(columns: ICurveColumns): boolean;
  label(columns: ICurveColumns): string;
  onCursor(panel: Panel, index: number | null): void;
  onZoom(panel: Panel, min: number, max: number): void;
  onReset(panel: Panel): void;
  onDrawn(ms: number): void;
}

/** One uPlot chart: the curves of one metric (or all of them, overlaid). */
export class Panel {
  readonly el: HTMLDivElement;
  columns: ICurveColumns[] = [];
  plot: uPlot | null = null;
  zoomed = false;
  private signature = '';
  private drawStart = 0;

  constructor(
    readonly key: string,
    readonly title: string,
    private ctx: IPanelContext
  ) {
    this.el = document.createElement('div');
    this.el.className = 'matih-chart-panel';
    this.el.dataset.panel = key;
  }

  /** Draw `columns`: new data into the existing chart, or a new chart when the series or
   * the axes changed. */
  update(columns: ICurveColumns[], width: number, signature: string): void {
    this.columns = columns;
    const data = alignedData(columns);
    this.drawStart = performance.now();
    if (this.plot && signature === this.signature) {
      this.plot.setData(data, !this.zoomed);
      return;
    }
    this.plot?.destroy();
    this.signature = signature;
    this.zoomed = false;
    this.plot = new uPlot(this.options(width), data, this.el);
  }

  /** Series index of each column's raw curve (its smoothed one follows it when shown). */
  rawIndex(i: number): number {
    let idx = 1;
    for (let j = 0; j < i; j++) {
      idx += this.columns[j].smooth ? 2 : 1;
    }
    return idx;
  }

  setVisible(i: number, show: boolean): void {
    if (!this.plot) {
      return;
    }
    const idx = this.rawIndex(i);
    this.plot.setSeries(idx, { show });
    if (this.columns[i].smooth) {
      this.plot.setSeries(idx + 1, { show });
    }
  }

  resize(width: number): void {
    this.plot?.setSize({ width, height: this.ctx.height });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
    this.el.remove();
  }

  private options(width: number): uPlot.Options {
    const { theme } = this.ctx;
    const axis = {
      stroke: theme.text,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
      font: `${AXIS_FONT_PX}px ${theme.font}`
    };
    return {
      title: this.title,
      width,
      height: this.ctx.height,
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: true },
        points: { size: 6 }
      },
      scales: {
        x: { time: this.ctx.x === 'time' },
        y: { distr: this.ctx.logScale ? 3 : 1 }
      },
      axes: [
        {
          ...axis,
          size: xAxisSize(this.ctx.x),
          label: xLabel(this.ctx.x, this.ctx.stepLabel),
          labelFont: `${AXIS_FONT_PX}px ${theme.font}`,
          labelSize: LINE_PX,
          labelGap: 0
        },
        { ...axis, size: 56 }
      ],
      series: [{}, ...this.series()],
      hooks: {
        draw: [u => this.drawn(u)],
        setCursor: [u => this.ctx.onCursor(this, u.cursor.idx ?? null)],
        setSelect: [u => this.selected(u)],
        ready: [u => u.over.addEventListener('dblclick', () => this.reset())]
      }
    };
  }

  private series(): uPlot.Series[] {
    const { theme } = this.ctx;
    const out: uPlot.Series[] = [];
    for (const c of this.columns) {
      const color = this.ctx.color(c);
      const show = !this.ctx.hidden(c);
      const label = this.ctx.label(c);
      out.push({
        label,
        stroke: c.smooth ? fade(color) : color,
        width: theme.lineWidth,
        spanGaps: true,
        show,
        points: { show: false }
      });
      if (c.smooth) {
        out.push({
          label: `${label} (smoothed)`,
          stroke: color,
          width: theme.lineWidth,
          spanGaps: true,
          show,
          points: { show: false }
        });
      }
    }
    return out;
  }

  private selected(u: uPlot): void {
    if (u.select.width <= 0) {
      return;
    }
    this.zoomed = true;
    const min = u.posToVal(u.select.left, 'x');
    const max = u.posToVal(u.select.left + u.select.width, 'x');
    this.ctx.onZoom(this, min, max);
  }

  reset(): void {
    this.zoomed = false;
    this.ctx.onReset(this);
  }

  /** After each draw: the best-so-far marker of each visible curve, and the timing. */
  private drawn(u: uPlot): void {
    const c2d = u.ctx;
    const r = 4 * devicePixelRatio;
    this.columns.forEach((c, i) => {
      const idx = this.rawIndex(i);
      if (!u.series[idx]?.show) {
        return;
      }
      const ys = u.data[idx] as (number | null)[];
      const goal =
        this.ctx.goals[c.curve.metric] ?? defaultGoal(c.curve.metric);
      const best = bestIndex(ys, goal);
      if (best < 0) {
        return;
      }
      const x = u.valToPos(u.data[0][best], 'x', true);
      const y = u.valToPos(ys[best] as number, 'y', true);
      c2d.save();
      c2d.beginPath();
      c2d.strokeStyle = this.ctx.color(c);
      c2d.lineWidth = 2 * devicePixelRatio;
      c2d.arc(x, y, r, 0, 2 * Math.PI);
      c2d.stroke();
      c2d.restore();
    });
    this.ctx.onDrawn(performance.now() - this.drawStart);
  }
}

/** The axes' font size, and the height of one line of it with room for descenders. */
const AXIS_FONT_PX = 11;
const LINE_PX = Math.ceil(AXIS_FONT_PX * 1.6);

/** The x axis's height below the plot: the ticks (uPlot's 10 px tick and 5 px gap) and
 * their values, two lines of them for wall time (time, then date); the axis label gets its
 * own line below, so it is never drawn over the values or past the canvas's edge. */
function xAxisSize(mode: XMode): number {
  return 10 + 5 + LINE_PX * (mode === 'time' ? 2 : 1);
}

function xLabel(mode: XMode, stepLabel: string): string {
  return mode === 'step'
    ? stepLabel
    : mode === 'time'
      ? 'wall time'
      : 'time (s)';
}

/** The raw curve under a smoothed one: the same colour, faint. */
function fade(color: string): string {
  return color.startsWith('#') && color.length === 7 ? `${color}4d` : color;
}
