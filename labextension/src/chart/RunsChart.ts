import { ParallelCoords } from './ParallelCoords';
import { emptyTable, IRunTable, RunAxis } from './runsAxis';
import { RunsScatter } from './RunsScatter';
import { IRunsContext, PickMode } from './runsView';
import { ITheme, readTheme, watchTheme } from './theme';

export interface IRunsChartOptions {
  /** Height of each chart in CSS pixels. */
  height: number;
  /** A person changed the selection (run ids, in the table's order). */
  onSelect?: (ids: string[]) => void;
  /** A person chose other parallel coordinates axes (column keys, in order). */
  onAxes?: (keys: string[]) => void;
}

/**
 * Many runs at once: a scatter of a param against a metric beside parallel coordinates of
 * several params and metrics, drawn on canvases (a thousand runs draw in a few
 * milliseconds). Both share one selection and one hovered run: hovering names the run and
 * its values below the charts and outlines it in both; a click, a box or axis brushes
 * select runs, and the owner hears of each change (`onSelect`).
 */
export class RunsChart {
  readonly root: HTMLDivElement;
  readonly scatter: RunsScatter;
  readonly parallel: ParallelCoords;
  /** Frames drawn, and the time the last one took (read by tests and benchmarks). */
  draws = 0;
  lastDrawMs = 0;
  private table: IRunTable = emptyTable();
  private columns = new Map<string, RunAxis>();
  private rowOf = new Map<string, number>();
  private xKey = '';
  private yKey = '';
  private axisKeys: string[] = [];
  private selected = new Set<number>();
  private preview: ReadonlySet<number> | null = null;
  private hovered: number | null = null;
  private options: IRunsChartOptions;
  private message: HTMLDivElement;
  private count: HTMLSpanElement;
  private axesMenu: HTMLDetailsElement;
  private readout: HTMLDivElement;
  private frame = 0;
  private theme: ITheme;
  private stopWatching: () => void;
  private resizer: ResizeObserver;

  constructor(host: HTMLElement, options: Partial<IRunsChartOptions> = {}) {
    this.options = { height: 260, ...options };
    this.root = div('matih-runs-root');
    this.message = div('matih-chart-message');
    this.message.setAttribute('role', 'status');
    const toolbar = div('matih-runs-toolbar');
    this.count = document.createElement('span');
    this.count.className = 'matih-runs-count';
    this.count.setAttribute('aria-live', 'polite');
    const clear = document.createElement('button');
    clear.type = 'button';
    clear.className = 'matih-runs-clear';
    clear.textContent = 'clear selection';
    clear.addEventListener('click', () => this.pick([], 'replace'));
    this.axesMenu = document.createElement('details');
    this.axesMenu.className = 'matih-runs-axes';
    const hint = document.createElement('span');
    hint.className = 'matih-runs-hint';
    hint.textContent =
      'click a point or a line, drag a box, or drag along an axis to select; Shift adds';
    toolbar.append(this.count, clear, this.axesMenu, hint);
    const views = div('matih-runs-views');
    this.theme = readTheme(document.body);
    const context = this.context();
    this.scatter = new RunsScatter(context);
    this.parallel = new ParallelCoords(context);
    views.append(this.scatter.el, this.parallel.el);
    this.readout = div('matih-runs-readout');
    this.readout.setAttribute('aria-live', 'polite');
    this.root.append(this.message, toolbar, views, this.readout);
    host.append(this.root);
    this.theme = readTheme(this.root);
    this.stopWatching = watchTheme(() => {
      this.theme = readTheme(this.root);
      this.schedule();
    });
    this.resizer = new ResizeObserver(() => this.schedule());
    this.resizer.observe(this.root);
    this.showCount();
  }

  /** New rows: the selection keeps the runs still among them. */
  setTable(table: IRunTable): void {
    const kept = this.selectedIds();
    this.table = table;
    this.rowOf = new Map(table.ids.map((id, i) => [id, i]));
    this.columns = new Map(table.columns.map(c => [c.key, new RunAxis(c)]));
    this.selected = this.rowsOf(kept);
    this.hovered = null;
    this.parallel.clearBrushes();
    this.applyAxes();
    this.schedule();
  }

  /** The scatter's columns. */
  setKeys(x: string, y: string): void {
    this.xKey = x;
    this.yKey = y;
    this.applyAxes();
    this.schedule();
  }

  /** The parallel coordinates' columns, in order. */
  setAxes(keys: string[]): void {
    this.axisKeys = [...keys];
    this.applyAxes();
    this.schedule();
  }

  /** The selection, set by the owner (the kernel): brushes that would select something
   * else are taken away. */
  setSelected(ids: string[]): void {
    const next = this.rowsOf(ids);
    if (sameSet(next, this.selected)) {
      return;
    }
    this.selected = next;
    this.parallel.clearBrushes();
    this.showCount();
    this.schedule();
  }

  setHeight(height: number): void {
    this.options.height = height;
    this.schedule();
  }

  setMessage(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
    this.message.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  }

  selectedIds(): string[] {
    return [...this.selected]
      .sort((a, b) => a - b)
      .map(i => this.table.ids[i])
      .filter(id => id !== undefined);
  }

  /** Hover run `i` (null: none): outlined in both charts and described below them. */
  hover(i: number | null): void {
    if (i === this.hovered) {
      return;
    }
    this.hovered = i;
    this.readout.textContent = i === null ? '' : this.describe(i);
    this.schedule();
  }

  /** Change the selection as a person did; the owner hears of it. */
  pick(rows: number[], mode: PickMode, byBrush = false): void {
    if (!byBrush) {
      this.parallel.clearBrushes();
    }
    let next: Set<number>;
    if (mode === 'replace') {
      next = new Set(rows);
    } else {
      next = new Set(this.selected);
      rows.forEach(i => {
        if (mode === 'toggle' && next.has(i)) {
          next.delete(i);
        } else {
          next.add(i);
        }
      });
    }
    this.schedule();
    if (sameSet(next, this.selected)) {
      return;
    }
    this.selected = next;
    this.showCount();
    this.options.onSelect?.(this.selectedIds());
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.stopWatching();
    this.resizer.disconnect();
    this.scatter.destroy();
    this.parallel.destroy();
    this.root.remove();
  }

  /** The run's name, id and values on the charts' columns. */
  describe(i: number): string {
    const id = this.table.ids[i] ?? '';
    const name = this.table.names[i];
    const head = name ? `${name} (${id.slice(0, 8)})` : id.slice(0, 8);
    const keys = [this.xKey, this.yKey, ...this.axisKeys].filter(
      (k, j, all) => k && all.indexOf(k) === j
    );
    const values = keys
      .map(k => this.columns.get(k))
      .filter((a): a is RunAxis => a !== undefined)
      .map(a => `${a.column.label} ${a.text(i)}`);
    return [head, ...values].join(' · ');
  }

  private rowsOf(ids: string[]): Set<number> {
    const out = new Set<number>();
    ids.forEach(id => {
      const i = this.rowOf.get(id);
      if (i !== undefined) {
        out.add(i);
      }
    });
    return out;
  }

  private applyAxes(): void {
    this.scatter.setAxes(
      this.columns.get(this.xKey) ?? null,
      this.columns.get(this.yKey) ?? null
    );
    this.parallel.setAxes(
      this.axisKeys
        .map(k => this.columns.get(k))
        .filter((a): a is RunAxis => a !== undefined)
    );
    this.showAxesMenu();
  }

  /** A checkbox per column: ticked ones are the parallel coordinates' axes. */
  private showAxesMenu(): void {
    const open = this.axesMenu.open;
    const summary = document.createElement('summary');
    summary.textContent = 'axes';
    const chosen = this.axisKeys.filter(k => this.columns.has(k));
    const others = [...this.columns.keys()].filter(k => !chosen.includes(k));
    const boxes = [...chosen, ...others].map(key => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = chosen.includes(key);
      box.dataset.key = key;
      box.addEventListener('change', () => {
        const keys = box.checked
          ? [...this.axisKeys.filter(k => k !== key), key]
          : this.axisKeys.filter(k => k !== key);
        this.setAxes(keys);
        this.options.onAxes?.(keys);
      });
      const column = this.columns.get(key);
      const kind = column?.column.kind === 'metric' ? 'metric' : 'param';
      label.append(box, document.createTextNode(` ${kind} ${column?.label}`));
      return label;
    });
    const list = div('matih-runs-axes-list');
    list.append(...boxes);
    this.axesMenu.replaceChildren(summary, list);
    this.axesMenu.open = open;
  }

  private showCount(): void {
    const n = this.table.ids.length;
    this.count.textContent = `${n} run${n === 1 ? '' : 's'} · ${this.selected.size} selected`;
    this.root.dataset.runs = String(n);
    this.root.dataset.selected = String(this.selected.size);
  }

  private schedule(): void {
    if (!this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    }
  }

  private draw(): void {
    const start = performance.now();
    const rows = this.table.ids.length;
    this.scatter.draw(widthOf(this.scatter.el), rows);
    this.parallel.draw(widthOf(this.parallel.el), rows);
    this.showCount();
    this.draws += 1;
    this.lastDrawMs = performance.now() - start;
    this.root.dataset.draws = String(this.draws);
    this.root.dataset.lastDrawMs = this.lastDrawMs.toFixed(3);
  }

  /** What the two charts read (getters: always the current state). */
  private context(): IRunsContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const chart = this;
    return {
      get theme() {
        return chart.theme;
      },
      get height() {
        return chart.options.height;
      },
      get selected() {
        return chart.selected;
      },
      get preview() {
        return chart.preview;
      },
      get hovered() {
        return chart.hovered;
      },
      name: i => chart.table.names[i] || (chart.table.ids[i] ?? '').slice(0, 8),
      hover: i => chart.hover(i),
      pick: (rows, mode, byBrush) => chart.pick(rows, mode, byBrush),
      brushing: rows => {
        chart.preview = rows;
        chart.schedule();
      },
      redraw: () => chart.schedule()
    };
  }
}

function div(className: string): HTMLDivElement {
  const el = document.createElement('div');
  el.className = className;
  return el;
}

function widthOf(el: HTMLElement): number {
  return Math.max(240, Math.floor(el.clientWidth || 420));
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a.size !== b.size) {
    return false;
  }
  for (const v of a) {
    if (!b.has(v)) {
      return false;
    }
  }
  return true;
}
