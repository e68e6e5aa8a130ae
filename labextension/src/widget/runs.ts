import type { AnyModel } from '@anywidget/types';

import { RunsChart } from '../chart/RunsChart';
import { IRunTable, tableOf } from '../chart/runsAxis';

/** The runs view's synced state (set by the kernel; saved with the notebook: display
 * data only). `selected` is also set here, when a person selects runs. */
export interface IRunsState {
  table: IRunTable;
  x_key: string;
  y_key: string;
  axes: string[];
  selected: string[];
  height: number;
  status: string;
  error: string;
}

/** Render the scatter and parallel coordinates of the model's runs into `el`; a person's
 * selection goes back to the kernel as `selected`, the axes they choose as `axes`. */
export function renderRuns(
  model: AnyModel<IRunsState>,
  el: HTMLElement
): () => void {
  el.classList.add('matih-runs-widget');
  const chart = new RunsChart(el, {
    height: model.get('height') || 260,
    onSelect: ids => {
      model.set('selected', ids);
      model.save_changes();
    },
    onAxes: keys => {
      model.set('axes', keys);
      model.save_changes();
    }
  });
  (el as HTMLElement & { matihRuns?: RunsChart }).matihRuns = chart;
  const onTable = () => {
    chart.setTable(tableOf(model.get('table')));
    chart.setSelected(model.get('selected') ?? []);
  };
  const onKeys = () => chart.setKeys(model.get('x_key'), model.get('y_key'));
  const onAxes = () => chart.setAxes(model.get('axes') ?? []);
  const onSelected = () => chart.setSelected(model.get('selected') ?? []);
  const onHeight = () => chart.setHeight(model.get('height') || 260);
  const showStatus = () => {
    const error = model.get('error');
    chart.setMessage(error || model.get('status'), error ? 'error' : 'info');
  };
  const listeners: [string, () => void][] = [
    ['change:table', onTable],
    ['change:x_key', onKeys],
    ['change:y_key', onKeys],
    ['change:axes', onAxes],
    ['change:selected', onSelected],
    ['change:height', onHeight],
    ['change:status', showStatus],
    ['change:error', showStatus]
  ];
  listeners.forEach(([event, fn]) => model.on(event, fn));
  onTable();
  onKeys();
  onAxes();
  showStatus();
  return () => {
    listeners.forEach(([event, fn]) => model.off(event, fn));
    chart.destroy();
  };
}
