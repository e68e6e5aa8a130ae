/**
 * The notebook widgets' front end (an anywidget ES module, built into the Python package).
 * One module for every chart widget; the model's `view` says which one to draw.
 */
import type { AnyModel, RenderProps } from '@anywidget/types';

import 'uplot/dist/uPlot.min.css';
import '../../style/chart.css';

import { ILiveState, renderLive } from './live';
import { IRunsState, renderRuns } from './runs';
import { ITrialsState, renderTrials } from './trials';

type State = ILiveState & { view: string };

function render({ model, el }: RenderProps<State>): () => void {
  const view = model.get('view');
  if (view === 'live') {
    return renderLive(model as unknown as AnyModel<ILiveState>, el);
  }
  if (view === 'runs') {
    return renderRuns(model as unknown as AnyModel<IRunsState>, el);
  }
  if (view === 'trials') {
    return renderTrials(model as unknown as AnyModel<ITrialsState>, el);
  }
  el.textContent = `matih: unknown chart view ${JSON.stringify(view)}; upgrade matih-jupyter.`;
  return () => undefined;
}

export default { render };
