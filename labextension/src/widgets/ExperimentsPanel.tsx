import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { IRun } from '../api';
import {
  formatDuration,
  formatMetric,
  formatTime,
  hasLiveRuns,
  keyMetrics,
  runDuration
} from '../logic';
import { ExperimentsModel } from '../model';
import { CompareChart } from './CompareChart';
import { SessionHeader } from './Header';
import { useSignal } from './useModel';

function RunsTable(props: { model: ExperimentsModel }): JSX.Element {
  const { model } = props;
  const runs = model.runs;
  if (runs.length === 0) {
    return <div className="matih-empty">No runs in this experiment yet.</div>;
  }
  const metrics = keyMetrics(runs);
  return (
    <div className="matih-scroll">
      <table className="matih-table matih-runs">
        <thead>
          <tr>
            <th title="Select runs to compare">⇄</th>
            <th>Run</th>
            <th>Status</th>
            <th>Start</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run: IRun) => (
            <tr
              key={run.id}
              data-run-id={run.id}
              data-status={run.status}
              className={
                (model.selectedRunIds.has(run.id) ? 'matih-selected ' : '') +
                (model.highlightedRunId === run.id ? 'matih-highlight' : '')
              }
            >
              <td>
                <input
                  type="checkbox"
                  aria-label={`Compare ${run.name ?? run.id}`}
                  checked={model.selectedRunIds.has(run.id)}
                  onChange={() => void model.toggleRun(run.id)}
                />
              </td>
              <td className="matih-run-name" title={run.id}>
                <div className="matih-name">
                  {run.name ?? run.id.slice(0, 8)}
                </div>
                <div className="matih-run-metrics">
                  {metrics
                    .filter(k => run.metrics[k] !== undefined)
                    .map(k => (
                      <span key={k} title={k}>
                        {k}{' '}
                        <span className="matih-metric" data-metric={k}>
                          {formatMetric(run.metrics[k])}
                        </span>
                      </span>
                    ))}
                </div>
              </td>
              <td>
                <span
                  className={`matih-status matih-status-${run.status.toLowerCase()}`}
                >
                  {run.status}
                </span>
                <div className="matih-duration" title="Duration">
                  {formatDuration(runDuration(run))}
                </div>
              </td>
              <td title={new Date(run.start_time).toString()}>
                {formatTime(run.start_time)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

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
            {hasLiveRuns(model.runs) && (
              <span
                className="matih-live"
                title={
                  model.autoRefreshing
                    ? `Refreshing every ${model.refreshInterval} s while a run is live`
                    : 'Auto-refresh is off (refresh interval 0)'
                }
              >
                {model.autoRefreshing ? 'live' : 'live (paused)'}
              </span>
            )}
          </div>
          <RunsTable model={model} />
          <Comparison model={model} />
        </div>
      )}
    </div>
  );
}

/** The left-sidebar Experiments panel. */
export class ExperimentsPanel extends ReactWidget {
  constructor(readonly model: ExperimentsModel) {
    super();
    this.id = 'matih-experiments';
    this.addClass('matih-sidebar');
  }

  render(): JSX.Element {
    return <ExperimentsView model={this.model} />;
  }
}
