import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { IRun } from '../api';
import {
  formatDuration,
  formatMetric,
  formatTime,
  hasLiveRuns,
  keyMetrics,
  runDuration,
  trialNumber,
  trialState
} from '../logic';
import { ExperimentsModel } from '../model';
import { CompareChart } from './CompareChart';
import { SessionHeader } from './Header';
import { useSignal } from './useModel';

/** What a trial row shows besides the run: its sweep's best trial is starred. */
interface ITrialInfo {
  best: boolean;
  metric: string | null;
}

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
            <React.Fragment key={run.id}>
              <RunRow model={model} run={run} metrics={metrics} />
              {run.sweep && model.isExpanded(run.id) && (
                <TrialRows model={model} parent={run} />
              )}
            </React.Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The trials of an expanded sweep, under its parent's row. */
function TrialRows(props: {
  model: ExperimentsModel;
  parent: IRun;
}): JSX.Element {
  const { model, parent } = props;
  const trials = model.trialsOf(parent.id);
  const sweep = parent.sweep;
  if (!trials || trials.length === 0) {
    return (
      <tr className="matih-trial" data-parent-run-id={parent.id}>
        <td />
        <td colSpan={3} className="matih-hint">
          {trials ? 'No trials yet.' : 'Loading trials…'}
        </td>
      </tr>
    );
  }
  const metric = sweep?.metric ?? null;
  const metrics = metric ? [metric] : keyMetrics(trials, 1);
  return (
    <>
      {trials.map(t => (
        <RunRow
          key={t.id}
          model={model}
          run={t}
          metrics={metrics}
          trial={{ best: t.id === sweep?.best_run_id, metric }}
        />
      ))}
    </>
  );
}

/** The button that folds a sweep's trials under its row (keyboard: Tab, Enter/Space). */
function SweepToggle(props: {
  model: ExperimentsModel;
  run: IRun;
}): JSX.Element {
  const { model, run } = props;
  const expanded = model.isExpanded(run.id);
  const label = run.name ?? run.id.slice(0, 8);
  return (
    <button
      type="button"
      className="matih-sweep-toggle"
      aria-expanded={expanded}
      aria-label={`${expanded ? 'Hide' : 'Show'} the trials of ${label}`}
      title={`${expanded ? 'Hide' : 'Show'} trials`}
      onClick={() => void model.toggleSweep(run.id)}
    >
      {expanded ? '▾' : '▸'}
    </button>
  );
}

/** One line under a sweep parent's name: trials, and the best value so far. */
function SweepSummary(props: { run: IRun }): JSX.Element | null {
  const sweep = props.run.sweep;
  if (!sweep) {
    return null;
  }
  const best =
    sweep.best_value === null
      ? ''
      : ` · best ${sweep.metric ?? ''} ${formatMetric(sweep.best_value)}`;
  return (
    <div
      className="matih-sweep-summary"
      title={`Sweep ${sweep.name ?? ''} (${sweep.direction ?? ''} ${sweep.metric ?? ''})`}
    >
      sweep · {sweep.children} {sweep.children === 1 ? 'trial' : 'trials'}
      {best}
    </div>
  );
}

/** A trial's number and, for the best trial of its sweep, a star that says so. */
function TrialLabel(props: { run: IRun; trial: ITrialInfo }): JSX.Element {
  const { run, trial } = props;
  const n = trialNumber(run);
  const value = trial.metric ? run.metrics[trial.metric] : undefined;
  return (
    <>
      {trial.best && (
        <span
          className="matih-best"
          role="img"
          aria-label="Best trial"
          title={
            trial.metric
              ? `Best trial of the sweep (${trial.metric} ${formatMetric(value)})`
              : 'Best trial of the sweep'
          }
        >
          ★
        </span>
      )}
      {n !== null && <span className="matih-trial-number">#{n}</span>}
    </>
  );
}

function RunRow(props: {
  model: ExperimentsModel;
  run: IRun;
  metrics: string[];
  trial?: ITrialInfo;
}): JSX.Element {
  const { model, run, metrics, trial } = props;
  const state = trial ? trialState(run) : null;
  const classes = [
    model.selectedRunIds.has(run.id) ? 'matih-selected' : '',
    model.highlightedRunId === run.id ? 'matih-highlight' : '',
    run.sweep ? 'matih-sweep' : '',
    trial ? 'matih-trial' : '',
    trial?.best ? 'matih-best-trial' : ''
  ];
  return (
    <tr
      data-run-id={run.id}
      data-status={run.status}
      data-parent-run-id={trial ? run.parent_run_id : undefined}
      data-trial-state={state?.label}
      className={classes.filter(c => c).join(' ')}
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
          {run.sweep && <SweepToggle model={model} run={run} />}
          {trial && <TrialLabel run={run} trial={trial} />}
          {run.name ?? run.id.slice(0, 8)}
        </div>
        <SweepSummary run={run} />
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
          className={`matih-status matih-status-${(state?.status ?? run.status).toLowerCase()}`}
          title={state ? `Trial ${state.label}, run ${run.status}` : undefined}
        >
          {state?.label ?? run.status}
        </span>
        <div className="matih-duration" title="Duration">
          {formatDuration(runDuration(run))}
        </div>
      </td>
      <td title={new Date(run.start_time).toString()}>
        {formatTime(run.start_time)}
      </td>
    </tr>
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
