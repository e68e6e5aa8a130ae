import { PALETTE, ITheme } from './theme';

/** How a pick changes the selection: it becomes the picked runs, gains them, or each
 * picked run flips. */
export type PickMode = 'replace' | 'add' | 'toggle';

/** What the scatter and the parallel coordinates read from their chart, and tell it. */
export interface IRunsContext {
  readonly theme: ITheme;
  readonly height: number;
  /** Runs selected (row indices). */
  readonly selected: ReadonlySet<number>;
  /** Runs a brush being dragged would select (drawn as selected until it is let go). */
  readonly preview: ReadonlySet<number> | null;
  readonly hovered: number | null;
  /** A run's name for labels. */
  name(i: number): string;
  hover(i: number | null): void;
  /** Runs picked; `byBrush` when they are what the brushes hold (other picks take the
   * brushes away). */
  pick(rows: number[], mode: PickMode, byBrush?: boolean): void;
  /** Runs a brush being dragged would select (null: no brush is being dragged). */
  brushing(rows: ReadonlySet<number> | null): void;
  /** Draw again at the next frame (a box or a brush being dragged). */
  redraw(): void;
}

export const BASE_COLOR = PALETTE[0];
export const SELECTED_COLOR = PALETTE[1];
export const DIM_COLOR = 'rgba(128, 128, 128, 0.28)';

/** The runs drawn highlighted: the preview while a brush is dragged, else the selection
 * (empty: nothing is singled out and every run is drawn in the base colour). */
export function highlighted(ctx: IRunsContext): ReadonlySet<number> {
  return ctx.preview ?? ctx.selected;
}

/** Size a canvas for `width` × `height` CSS pixels at the screen's density; returns its
 * context, scaled so drawing uses CSS pixels. */
export function sizeCanvas(
  canvas: HTMLCanvasElement,
  width: number,
  height: number
): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const c2d = canvas.getContext('2d') as CanvasRenderingContext2D;
  c2d.setTransform(dpr, 0, 0, dpr, 0, 0);
  c2d.clearRect(0, 0, width, height);
  return c2d;
}

/** Text cut to fit `max` CSS pixels, with an ellipsis. */
export function fitText(
  c2d: CanvasRenderingContext2D,
  text: string,
  max: number
): string {
  if (c2d.measureText(text).width <= max) {
    return text;
  }
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (c2d.measureText(`${text.slice(0, mid)}…`).width <= max) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return `${text.slice(0, lo)}…`;
}

/** The mouse position in CSS pixels relative to an element. */
export function localPoint(
  el: HTMLElement,
  ev: MouseEvent
): { x: number; y: number } {
  const r = el.getBoundingClientRect();
  return { x: ev.clientX - r.left, y: ev.clientY - r.top };
}
