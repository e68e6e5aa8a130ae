import { jitter, RunAxis } from './runsAxis';
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

const MARGIN = { left: 60, right: 12, top: 10, bottom: 40 };
const RADIUS = 3;
const HIT = 8;
const DRAG = 4;

/**
 * Every run as a point: a param on x, a metric on y (numbers on a numeric or log axis,
 * categories in bands with the points spread across each). Hover names the nearest run;
 * a click selects it (Shift, Ctrl or ⌘ add or remove it), a click on nothing clears the
 * selection, and dragging a box selects the runs inside (Shift adds them). From the
 * keyboard: arrows walk the points from left to right, Enter or Space flips the run,
 * Escape clears the selection.
 */
export class RunsScatter {
  readonly el: HTMLDivElement;
  readonly canvas: HTMLCanvasElement;
  x: RunAxis | null = null;
  y: RunAxis | null = null;
  /** Each run's point in CSS pixels (NaN: not drawn). */
  px = new Float64Array(0);
  py = new Float64Array(0);
  private width = 300;
  private drag: { x0: number; y0: number; x1: number; y1: number } | null =
    null;

  constructor(private ctx: IRunsContext) {
    this.el = document.createElement('div');
    this.el.className = 'matih-runs-scatter';
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.el.append(this.canvas);
    this.canvas.addEventListener('mousedown', e => this.down(e));
    this.canvas.addEventListener('mousemove', e => this.move(e));
    this.canvas.addEventListener('mouseleave', () => {
      if (!this.drag) {
        this.ctx.hover(null);
      }
    });
    window.addEventListener('mouseup', this.up);
    this.canvas.addEventListener('keydown', e => this.key(e));
  }

  destroy(): void {
    window.removeEventListener('mouseup', this.up);
    this.el.remove();
  }

  setAxes(x: RunAxis | null, y: RunAxis | null): void {
    this.x = x;
    this.y = y;
    this.canvas.setAttribute(
      'aria-label',
      x && y
        ? `Scatter of ${y.column.label} against ${x.column.label}, one point per run`
        : 'Scatter: no param or metric chosen'
    );
  }

  /** The point of run `i` in CSS pixels relative to the canvas, or null. */
  position(i: number): { x: number; y: number } | null {
    return isFinite(this.px[i]) ? { x: this.px[i], y: this.py[i] } : null;
  }

  draw(width: number, rows: number): number {
    this.width = width;
    const height = this.ctx.height;
    const c2d = sizeCanvas(this.canvas, width, height);
    const { theme } = this.ctx;
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    this.px = new Float64Array(rows).fill(NaN);
    this.py = new Float64Array(rows).fill(NaN);
    c2d.font = `11px ${theme.font}`;
    if (!this.x || !this.y) {
      c2d.fillStyle = theme.text;
      c2d.fillText('choose a param and a metric', MARGIN.left, height / 2);
      this.canvas.dataset.points = '0';
      return 0;
    }
    this.frame(c2d, plotW, plotH);
    const bandX = this.x.isCategory
      ? 1 / Math.max(1, this.x.column.categories?.length ?? 1)
      : 0;
    for (let i = 0; i < rows; i++) {
      let tx = this.x.pos(i);
      const ty = this.y.pos(i);
      if (tx === null || ty === null) {
        continue;
      }
      tx += bandX * 0.6 * jitter(i);
      this.px[i] = MARGIN.left + tx * plotW;
      this.py[i] = MARGIN.top + (1 - ty) * plotH;
    }
    const lit = highlighted(this.ctx);
    let drawn = 0;
    // Runs not singled out first, so the highlighted ones sit on top.
    for (const pass of [false, true]) {
      c2d.beginPath();
      for (let i = 0; i < rows; i++) {
        if (!isFinite(this.px[i]) || lit.has(i) !== pass) {
          continue;
        }
        c2d.moveTo(this.px[i] + RADIUS, this.py[i]);
        c2d.arc(this.px[i], this.py[i], RADIUS, 0, 2 * Math.PI);
        drawn += 1;
      }
      c2d.fillStyle = pass ? SELECTED_COLOR : lit.size ? DIM_COLOR : BASE_COLOR;
      c2d.globalAlpha = pass || lit.size ? 1 : 0.75;
      c2d.fill();
      c2d.globalAlpha = 1;
    }
    const h = this.ctx.hovered;
    if (h !== null && isFinite(this.px[h])) {
      c2d.beginPath();
      c2d.arc(this.px[h], this.py[h], RADIUS + 3, 0, 2 * Math.PI);
      c2d.strokeStyle = theme.text;
      c2d.lineWidth = 2;
      c2d.stroke();
    }
    if (this.drag) {
      const { x0, y0, x1, y1 } = this.drag;
      c2d.fillStyle = 'rgba(25, 118, 210, 0.15)';
      c2d.strokeStyle = 'rgba(25, 118, 210, 0.8)';
      c2d.lineWidth = 1;
      c2d.fillRect(x0, y0, x1 - x0, y1 - y0);
      c2d.strokeRect(x0, y0, x1 - x0, y1 - y0);
    }
    this.canvas.dataset.points = String(drawn);
    return drawn;
  }

  /** Axes, grid, ticks and titles. */
  private frame(c2d: CanvasRenderingContext2D, plotW: number, plotH: number) {
    const { theme } = this.ctx;
    const x = this.x as RunAxis;
    const y = this.y as RunAxis;
    c2d.strokeStyle = theme.grid;
    c2d.lineWidth = 1;
    c2d.fillStyle = theme.text;
    c2d.textAlign = 'center';
    c2d.textBaseline = 'top';
    const xTicks = x.ticks(Math.max(2, Math.floor(plotW / 80)));
    const space = plotW / Math.max(1, xTicks.length);
    for (const t of xTicks) {
      const px = MARGIN.left + t.at * plotW;
      c2d.beginPath();
      c2d.moveTo(px, MARGIN.top);
      c2d.lineTo(px, MARGIN.top + plotH);
      c2d.stroke();
      c2d.fillText(
        fitText(c2d, t.label, space - 4),
        px,
        MARGIN.top + plotH + 4
      );
    }
    c2d.textAlign = 'right';
    c2d.textBaseline = 'middle';
    for (const t of y.ticks(Math.max(2, Math.floor(plotH / 40)))) {
      const py = MARGIN.top + (1 - t.at) * plotH;
      c2d.beginPath();
      c2d.moveTo(MARGIN.left, py);
      c2d.lineTo(MARGIN.left + plotW, py);
      c2d.stroke();
      c2d.fillText(fitText(c2d, t.label, MARGIN.left - 8), MARGIN.left - 4, py);
    }
    c2d.strokeRect(MARGIN.left, MARGIN.top, plotW, plotH);
    c2d.textAlign = 'center';
    c2d.textBaseline = 'bottom';
    c2d.fillText(
      fitText(c2d, titleOf(x), plotW),
      MARGIN.left + plotW / 2,
      MARGIN.top + plotH + MARGIN.bottom - 2
    );
    c2d.save();
    c2d.translate(12, MARGIN.top + plotH / 2);
    c2d.rotate(-Math.PI / 2);
    c2d.textBaseline = 'middle';
    c2d.fillText(fitText(c2d, titleOf(y), plotH), 0, 0);
    c2d.restore();
  }

  /** The run nearest to (x, y) within a few pixels, or null. */
  hit(x: number, y: number): number | null {
    let best: number | null = null;
    let bestD = HIT * HIT;
    for (let i = 0; i < this.px.length; i++) {
      const dx = this.px[i] - x;
      const dy = this.py[i] - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        best = i;
        bestD = d;
      }
    }
    return best;
  }

  private down(e: MouseEvent): void {
    if (e.button !== 0) {
      return;
    }
    const p = localPoint(this.canvas, e);
    this.drag = { x0: p.x, y0: p.y, x1: p.x, y1: p.y };
    e.preventDefault();
  }

  private move(e: MouseEvent): void {
    const p = localPoint(this.canvas, e);
    if (this.drag) {
      this.drag.x1 = p.x;
      this.drag.y1 = p.y;
      this.ctx.redraw();
      return;
    }
    this.ctx.hover(this.hit(p.x, p.y));
  }

  private up = (e: MouseEvent): void => {
    const drag = this.drag;
    if (!drag) {
      return;
    }
    this.drag = null;
    this.ctx.redraw();
    const adding = e.shiftKey;
    if (
      Math.abs(drag.x1 - drag.x0) > DRAG ||
      Math.abs(drag.y1 - drag.y0) > DRAG
    ) {
      const [xa, xb] = [drag.x0, drag.x1].sort((a, b) => a - b);
      const [ya, yb] = [drag.y0, drag.y1].sort((a, b) => a - b);
      const inside: number[] = [];
      for (let i = 0; i < this.px.length; i++) {
        const x = this.px[i];
        const y = this.py[i];
        if (x >= xa && x <= xb && y >= ya && y <= yb) {
          inside.push(i);
        }
      }
      this.ctx.pick(inside, adding ? 'add' : 'replace');
      return;
    }
    const i = this.hit(drag.x0, drag.y0);
    const toggle = e.shiftKey || e.ctrlKey || e.metaKey;
    if (i !== null) {
      this.ctx.pick([i], toggle ? 'toggle' : 'replace');
    } else if (!toggle) {
      this.ctx.pick([], 'replace');
    }
  };

  private key(e: KeyboardEvent): void {
    const order = [...this.px.keys()]
      .filter(i => isFinite(this.px[i]))
      .sort((a, b) => this.px[a] - this.px[b] || this.py[b] - this.py[a]);
    if (!order.length) {
      return;
    }
    const at = this.ctx.hovered === null ? -1 : order.indexOf(this.ctx.hovered);
    if (e.key === 'ArrowRight' || e.key === 'ArrowUp') {
      this.ctx.hover(order[Math.min(order.length - 1, at + 1)]);
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowDown') {
      this.ctx.hover(order[Math.max(0, at - 1)]);
    } else if ((e.key === 'Enter' || e.key === ' ') && at >= 0) {
      this.ctx.pick([order[at]], 'toggle');
    } else if (e.key === 'Escape') {
      this.ctx.pick([], 'replace');
    } else {
      return;
    }
    e.preventDefault();
  }

  get cssWidth(): number {
    return this.width;
  }
}

/** An axis title: "param lr (log)", "metric auc". */
function titleOf(axis: RunAxis): string {
  return `${axis.column.kind} ${axis.label}`;
}
