import { ReactWidget } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import React from 'react';

import { ExperimentsModel } from '../model';
import { CompareChart } from './CompareChart';
import { SessionHeader } from './Header';
import { RunsTable, RunsTools } from './RunsList';
import { useSignal } from './useModel';

function Comparison(props: { model: ExperimentsModel }): JSX.Element | null {
  const { model } = props;
  const cmp = model.comparison;
  if (model.selectedRunIds.size < 2) {
    return model.runs.length > 1 ? (
      <div className="matih-hint">Tick two or more runs to compare them.</div>
    ) : null;
  }
  if (!cmp) {
    return <div className="matih-hint">Loading comparison…</div>;
  }
  return (
    <div className="matih-compare">
      <h3>Compare {cmp.runs.length} runs</h3>
      {cmp.metric ? (
        <>
          <label className="matih-field">
            Metric{' '}
            <select
              className="matih-metric-select"
              value={cmp.metric}
              onChange={e => void model.selectMetric(e.target.value)}
            >
              {cmp.metricKeys.map(k => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
          <CompareChart
            metric={cmp.metric}
            runs={cmp.runs}
            histories={cmp.histories}
          />
        </>
      ) : (
        <div className="matih-empty">These runs logged no metrics.</div>
      )}
      <h4>Parameters that differ</h4>
      {cmp.differingParams.length === 0 ? (
        <div className="matih-empty">All parameters are equal.</div>
      ) : (
        <table className="matih-table matih-param-diff">
          <thead>
            <tr>
              <th>Param</th>
              {cmp.runs.map(r => (
                <th key={r.id}>{r.name ?? r.id.slice(0, 8)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {cmp.differingParams.map(p => (
              <tr key={p.key} data-param={p.key}>
                <td>{p.key}</td>
                {p.values.map((v, i) => (
                  <td key={cmp.runs[i].id}>{v ?? '–'}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Whether the panel follows the server by itself, and how often. */
function LiveBadge(props: { model: ExperimentsModel }): JSX.Element {
  const { model } = props;
  return model.live ? (
    <span
      className="matih-live"
      title={`Checks for new runs and changes every ${model.refreshInterval} s while this panel is visible`}
    >
      live
    </span>
  ) : (
    <span
      className="matih-live matih-paused"
      title="Live updates are off (refresh interval 0 in the settings); ⟳ reloads"
    >
      paused
    </span>
  );
}

function ExperimentsView(props: { model: ExperimentsModel }): JSX.Element {
  const { model } = props;
  useSignal(model.changed);
  const selected = model.selectedExperiment;
  const visible = model.visibleExperiments;
  return (
    <div className="matih-panel">
      <SessionHeader
        session={model.session}
        title="Experiments"
        onRefresh={() => void model.refresh()}
        badge={<LiveBadge model={model} />}
      />
      <input
        className="matih-search jp-mod-styled"
        type="search"
        placeholder="Search experiments"
        aria-label="Search experiments"
        value={model.search}
        onChange={e => {
          model.search = e.target.value;
        }}
      />
      <ul className="matih-list matih-experiments">
        {visible.map(e => (
          <li
            key={e.id}
            data-experiment-id={e.id}
            className={selected?.id === e.id ? 'matih-selected' : ''}
            title={e.full_name}
            onClick={() =>
              void model.selectExperiment(selected?.id === e.id ? null : e.id)
            }
          >
            <span className="matih-name">{e.name}</span>
            {e.description && (
              <span className="matih-desc">{e.description}</span>
            )}
          </li>
        ))}
      </ul>
      {visible.length === 0 && (
        <div className="matih-empty">
          {model.loading
            ? 'Loading…'
            : model.experiments.length
              ? 'No experiment matches the search.'
              : 'No experiments for this tenant yet.'}
        </div>
      )}
      {selected && (
        <div className="matih-runs-section">
          <div className="matih-section-title">
            <h3>Runs of {selected.name}</h3>
          </div>
          <RunsTools model={model} />
          <RunsTable model={model} />
          <Comparison model={model} />
        </div>
      )}
    </div>
  );
}

/** The left-sidebar Experiments panel; live (polling the server) only while visible. */
export class ExperimentsPanel extends ReactWidget {
  constructor(readonly model: ExperimentsModel) {
    super();
    this.id = 'matih-experiments';
    this.addClass('matih-sidebar');
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.visible = this.isVisible;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.visible = false;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.visible = this.isVisible;
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.visible = false;
    super.onBeforeDetach(msg);
  }

  render(): JSX.Element {
    return <ExperimentsView model={this.model} />;
  }
}
