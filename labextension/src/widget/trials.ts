import type { AnyModel } from '@anywidget/types';

import { formatDuration, formatValue } from '../chart/format';

/** One trial of a sweep, as the kernel sends it (display data only). */
export interface ITrialRow {
  id: string;
  number: number;
  state: string;
  value: number | null;
  duration: number | null;
  params: string;
  error: string;
}

/** The trials view's synced state. `selected` is also set here, when a person clicks. */
export interface ITrialsState {
  rows: ITrialRow[];
  metric: string;
  best: string;
  selected: string[];
  status: string;
}

/** Which trials a click leaves selected: a plain click picks the row alone (or clears it
 * when it was the only one), a click with Shift, Ctrl or Cmd adds or removes it. */
export function clicked(
  selected: readonly string[],
  id: string,
  adding: boolean
): string[] {
  if (adding) {
    return selected.includes(id)
      ? selected.filter(s => s !== id)
      : [...selected, id];
  }
  return selected.length === 1 && selected[0] === id ? [] : [id];
}

/** Render the trials table into `el`; a click on a row selects its trial (`selected`). */
export function renderTrials(
  model: AnyModel<ITrialsState>,
  el: HTMLElement
): () => void {
  el.classList.add('matih-trials-widget');
  const root = document.createElement('div');
  root.className = 'matih-trials-root';
  const status = document.createElement('div');
  status.className = 'matih-chart-message';
  status.setAttribute('role', 'status');
  const scroller = document.createElement('div');
  scroller.className = 'matih-trials-scroll';
  const table = document.createElement('table');
  table.className = 'matih-trials-table';
  scroller.append(table);
  root.append(status, scroller);
  el.append(root);

  const select = (id: string, adding: boolean) => {
    model.set('selected', clicked(model.get('selected') ?? [], id, adding));
    model.save_changes();
  };
  const draw = () => {
    status.textContent = model.get('status') ?? '';
    table.replaceChildren(header(model.get('metric')), body(model, select));
    root.dataset.rows = String(model.get('rows')?.length ?? 0);
  };
  const events = ['rows', 'metric', 'best', 'selected', 'status'];
  events.forEach(k => model.on(`change:${k}`, draw));
  draw();
  return () => {
    events.forEach(k => model.off(`change:${k}`, draw));
    root.remove();
  };
}

function header(metric: string): HTMLTableSectionElement {
  const head = document.createElement('thead');
  const tr = document.createElement('tr');
  ['trial', 'state', metric || 'value', 'duration', 'params'].forEach(text => {
    const th = document.createElement('th');
    th.textContent = text;
    tr.append(th);
  });
  head.append(tr);
  return head;
}

function body(
  model: AnyModel<ITrialsState>,
  select: (id: string, adding: boolean) => void
): HTMLTableSectionElement {
  const tbody = document.createElement('tbody');
  const selected = new Set(model.get('selected') ?? []);
  const best = model.get('best');
  for (const row of model.get('rows') ?? []) {
    tbody.append(rowOf(row, row.id === best, selected.has(row.id), select));
  }
  return tbody;
}

function rowOf(
  row: ITrialRow,
  isBest: boolean,
  isSelected: boolean,
  select: (id: string, adding: boolean) => void
): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.id = row.id;
  tr.dataset.state = row.state;
  tr.tabIndex = 0;
  tr.setAttribute('aria-selected', String(isSelected));
  tr.title = row.error
    ? `trial ${row.number} failed: ${row.error}`
    : `trial ${row.number}: click to see its curves (Shift adds)`;
  const cells = [
    `${row.number}${isBest ? ' ★' : ''}`,
    row.state.toLowerCase(),
    formatValue(row.value),
    row.duration === null ? '–' : formatDuration(row.duration),
    row.params
  ];
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (i === 1) {
      td.className = `matih-trial-state matih-trial-${row.state.toLowerCase()}`;
    }
    tr.append(td);
  });
  tr.addEventListener('click', e =>
    select(row.id, e.shiftKey || e.ctrlKey || e.metaKey)
  );
  tr.addEventListener('keydown', e => {
    if (e.key === 'Enter' || e.key === ' ') {
      select(row.id, e.shiftKey);
      e.preventDefault();
    }
  });
  return tr;
}
