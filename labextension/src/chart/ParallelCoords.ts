import { RunAxis } from './runsAxis';
import {
  BASE_COLOR,
  DIM_COLOR,
  fitText,
  highlighted,
  IRunsContext,
  localPoint,
  SELECTED_COLOR,
  sizeCanvas
} from './runsView';

const MARGIN = { left: 24, right: 56, top: 30, bottom: 12 };
const NEAR_AXIS = 12;
const HIT = 5;
const CLICK = 3;

interface IBrushDrag {
  axis: number;
  from: number;
  to: number;
}

/**
 * Parallel coordinates: one vertical axis per chosen param or metric, one line per run
 * through its values (broken where a run has none). Dragging along an axis brushes a range
 * of it; the runs inside every brush become the selection when the mouse is let go, and a
 * click on an axis takes its brush away. Hover names the nearest line; a click on it
 * selects that run (Shift, Ctrl or ⌘ add or remove it).
 */
export class ParallelCoords {
  readonly el: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  axes: RunAxis[] = [];
  /** Brushed ranges by column key, as axis positions [low, high] in [0, 1]. */
  readonly brushes = new Map<string, [number, number]>();
  private axisX: number[] = [];
  private plotH = 1;
  private rows = 0;
  private drag: IBrushDrag | null = null;
  private press: { x: number; y: number } | null = null;

  constructor(private ctx: IRunsContext) {
    this.el = document.createElement('div');
    this.el.className = 'matih-runs-parallel';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.el.append(this.canvas);
    this.canvas.addEventListener('mousedown', e => this.down(e));
    this.canvas.addEventListener('mousemove', e => this.move(e));
    this.canvas.addEventListener('mouseleave', () => {
      if (!this.drag) {
        this.ctx.hover(null);
      }
    });
    window.addEventListener('mousemove', this.dragMove);
    window.addEventListener('mouseup', this.up);
  }

  destroy(): void {
    window.removeEventListener('mousemove', this.dragMove);
    window.removeEventListener('mouseup', this.up);
    this.el.remove();
  }

  setAxes(axes: RunAxis[]): void {
    this.axes = axes;
    const keys = new Set(axes.map(a => a.column.key));
    [...this.brushes.keys()]
      .filter(k => !keys.has(k))
      .forEach(k => this.brushes.delete(k));
    this.canvas.setAttribute(
      'aria-label',
      `Parallel coordinates of ${axes.map(a => a.column.label).join(', ')}, one line per run`
    );
  }

  clearBrushes(): void {
    this.brushes.clear();
  }

  /** Rows inside every brush (every row when there is none). */
  matches(brushes = this.brushes): number[] {
    const active = this.axes.filter(a => brushes.has(a.column.key));
    const out: number[] = [];
    for (let i = 0; i < this.rows; i++) {
      if (
        active.every(a => {
          const t = a.pos(i);
          const [lo, hi] = brushes.get(a.column.key) as [number, number];
          return t !== null && t >= lo && t <= hi;
        })
      ) {
        out.push(i);
      }
    }
    return out;
  }

  /** Where run `i` crosses axis `k`, in CSS pixels relative to the canvas, or null. */
  position(i: number, k: number): { x: number; y: number } | null {
    const t = this.axes[k]?.pos(i);
    return t === null || t === undefined
      ? null
      : { x: this.axisX[k], y: this.yOf(t) };
  }

  /** A point on axis `k` at position `t` in [0, 1] (for brushing from tests). */
  axisPoint(k: number, t: number): { x: number; y: number } {
    return { x: this.axisX[k], y: this.yOf(t) };
  }

  draw(width: number, rows: number): number {
    this.rows = rows;
    const height = this.ctx.height;
    const c2d = sizeCanvas(this.canvas, width, height);
    const { theme } = this.ctx;
    const n = this.axes.length;
    const plotW = width - MARGIN.left - MARGIN.right;
    this.plotH = height - MARGIN.top - MARGIN.bottom;
    this.axisX = this.axes.map((_, k) =>
      n === 1 ? MARGIN.left + plotW / 2 : MARGIN.left + (k * plotW) / (n - 1)
    );
    c2d.font = `11px ${theme.font}`;
    if (!n) {
      c2d.fillStyle = theme.text;
      c2d.fillText('choose axes', MARGIN.left, height / 2);
      this.canvas.dataset.lines = '0';
      return 0;
    }
    const lit = highlighted(this.ctx);
    let drawn = 0;
    for (const pass of [false, true]) {
      c2d.beginPath();
      for (let i = 0; i < rows; i++) {
        if (lit.has(i) !== pass) {
          continue;
        }
        drawn += this.trace(c2d, i) ? 1 : 0;
      }
      c2d.strokeStyle = pass
        ? SELECTED_COLOR
        : lit.size
          ? DIM_COLOR
          : BASE_COLOR;
      c2d.globalAlpha = pass ? 0.9 : lit.size ? 1 : 0.35;
      c2d.lineWidth = 1;
      c2d.stroke();
      c2d.globalAlpha = 1;
    }
    const h = this.ctx.hovered;
    if (h !== null && h < rows) {
      c2d.beginPath();
      this.trace(c2d, h);
      c2d.strokeStyle = theme.text;
      c2d.lineWidth = 2.5;
      c2d.stroke();
    }
    this.frame(c2d, plotW);
    this.canvas.dataset.lines = String(drawn);
    return drawn;
  }

  /** Add run `i`'s line to the path; false when it crosses no axis. */
  private trace(c2d: CanvasRenderingContext2D, i: number): boolean {
    let any = false;
    let open = false;
    for (let k = 0; k < this.axes.length; k++) {
      const t = this.axes[k].pos(i);
      if (t === null) {
        open = false;
        continue;
      }
      const x = this.axisX[k];
      const y = this.yOf(t);
      if (open) {
        c2d.lineTo(x, y);
      } else {
        c2d.moveTo(x, y);
        c2d.rect(x - 0.5, y - 0.5, 1, 1); // a run with one value still shows
        c2d.moveTo(x, y);
      }
      open = true;
      any = true;
    }
    return any;
  }

  /** Axes with their ticks, titles and brushes. */
  private frame(c2d: CanvasRenderingContext2D, plotW: number): void {
    const { theme } = this.ctx;
    const n = this.axes.length;
    const spacing = n > 1 ? plotW / (n - 1) : plotW;
    this.axes.forEach((axis, k) => {
      const x = this.axisX[k];
      const brush = this.brushes.get(axis.column.key);
      const live = this.drag?.axis === k ? this.dragRange() : null;
      const range = live ?? brush;
      if (range) {
        c2d.fillStyle = 'rgba(25, 118, 210, 0.22)';
        c2d.strokeStyle = 'rgba(25, 118, 210, 0.9)';
        c2d.lineWidth = 1;
        const top = this.yOf(range[1]);
        c2d.fillRect(x - 7, top, 14, this.yOf(range[0]) - top);
        c2d.strokeRect(x - 7, top, 14, this.yOf(range[0]) - top);
      }
      c2d.strokeStyle = theme.text;
      c2d.lineWidth = 1;
      c2d.beginPath();
      c2d.moveTo(x, MARGIN.top);
      c2d.lineTo(x, MARGIN.top + this.plotH);
      c2d.stroke();
      c2d.fillStyle = theme.text;
      c2d.textAlign = 'left';
      c2d.textBaseline = 'middle';
      for (const t of axis.ticks(Math.max(2, Math.floor(this.plotH / 36)))) {
        const y = this.yOf(t.at);
        c2d.beginPath();
        c2d.moveTo(x - 3, y);
        c2d.lineTo(x, y);
        c2d.stroke();
        c2d.fillText(
          fitText(c2d, t.label, Math.min(spacing - 10, 70)),
          x + 4,
          y
        );
      }
      c2d.textAlign =
        k === 0 ? 'left' : k === n - 1 && n > 1 ? 'right' : 'center';
      c2d.textBaseline = 'bottom';
      c2d.fillText(
        fitText(c2d, axis.label + better(axis), Math.max(40, spacing - 8)),
        k === 0 ? x - 4 : k === n - 1 && n > 1 ? x + 4 : x,
        MARGIN.top - 8
      );
    });
  }

  private yOf(t: number): number {
    return MARGIN.top + (1 - t) * this.plotH;
  }

  private tOf(y: number): number {
    return Math.min(1, Math.max(0, 1 - (y - MARGIN.top) / this.plotH));
  }

  private nearestAxis(x: number): number | null {
    let best: number | null = null;
    this.axisX.forEach((ax, k) => {
      if (
        Math.abs(ax - x) <= NEAR_AXIS &&
        (best === null || Math.abs(ax - x) < Math.abs(this.axisX[best] - x))
      ) {
        best = k;
      }
    });
    return best;
  }

  /** The line nearest to (x, y) within a few pixels, between the axes around x. */
  hit(x: number, y: number): number | null {
    const xs = this.axisX;
    if (!xs.length) {
      return null;
    }
    let k = 0;
    while (k < xs.length - 2 && x > xs[k + 1]) {
      k++;
    }
    const single = xs.length === 1;
    let best: number | null = null;
    let bestD = HIT;
    for (let i = 0; i < this.rows; i++) {
      const a = this.axes[k].pos(i);
      const b = single ? a : this.axes[k + 1].pos(i);
      let ly: number;
      if (a !== null && b !== null) {
        const f = single ? 0 : (x - xs[k]) / (xs[k + 1] - xs[k]);
        ly = this.yOf(a + (b - a) * Math.min(1, Math.max(0, f)));
      } else {
        continue;
      }
      const d = Math.abs(ly - y);
      if (d <= bestD) {
        best = i;
        bestD = d;
      }
    }
    return best;
  }

  private dragRange(): [number, number] | null {
    const d = this.drag;
    if (!d) {
      return null;
    }
    return [Math.min(d.from, d.to), Math.max(d.from, d.to)];
  }

  private down(e: MouseEvent): void {
    if (e.button !== 0) {
      return;
    }
    const p = localPoint(this.canvas, e);
    this.press = p;
    const k = this.nearestAxis(p.x);
    if (k !== null) {
      const t = this.tOf(p.y);
      this.drag = { axis: k, from: t, to: t };
      e.preventDefault();
    }
  }

  private move(e: MouseEvent): void {
    if (this.drag) {
      return;
    }
    const p = localPoint(this.canvas, e);
    this.ctx.hover(this.hit(p.x, p.y));
  }

  private dragMove = (e: MouseEvent): void => {
    if (!this.drag) {
      return;
    }
    this.drag.to = this.tOf(localPoint(this.canvas, e).y);
    const brushes = new Map(this.brushes);
    brushes.set(
      this.axes[this.drag.axis].column.key,
      this.dragRange() as [number, number]
    );
    this.ctx.brushing(new Set(this.matches(brushes)));
    this.ctx.redraw();
  };

  private up = (e: MouseEvent): void => {
    const press = this.press;
    this.press = null;
    const drag = this.drag;
    this.drag = null;
    if (!press) {
      return;
    }
    const p = localPoint(this.canvas, e);
    const still =
      Math.abs(p.y - press.y) <= CLICK && Math.abs(p.x - press.x) <= CLICK;
    if (drag) {
      const key = this.axes[drag.axis].column.key;
      if (still) {
        this.brushes.delete(key); // a click on an axis takes its brush away
      } else {
        this.brushes.set(key, [
          Math.min(drag.from, drag.to),
          Math.max(drag.from, drag.to)
        ]);
      }
      this.ctx.brushing(null);
      this.ctx.pick(this.brushes.size ? this.matches() : [], 'replace', true);
      return;
    }
    if (still) {
      const i = this.hit(p.x, p.y);
      if (i !== null) {
        const toggle = e.shiftKey || e.ctrlKey || e.metaKey;
        this.ctx.pick([i], toggle ? 'toggle' : 'replace');
      }
    }
  };
}

/** Which way a metric improves, after its axis title (params: nothing). */
function better(axis: RunAxis): string {
  const goal = axis.column.kind === 'metric' ? axis.column.goal : undefined;
  return goal === 'max' ? ' ↑' : goal === 'min' ? ' ↓' : '';
}
