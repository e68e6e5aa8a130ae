/**
 * The runs of the selected experiment, laid out for a narrow sidebar (about 250 px): one
 * compact block per run (name and status, start and duration, metrics that wrap), every
 * detail in the row's tooltip; a search and a status that run on the server; more runs
 * as the list scrolls to its end.
 */
import React, { useEffect, useRef } from 'react';

import { IRun, RunStatus } from '../api';
import {
  formatDuration,
  formatMetric,
  formatTime,
  keyMetrics,
  runDuration,
  trialNumber,
  trialState
} from '../logic';
import { ExperimentsModel } from '../model';

/** The statuses the status filter offers. */
const STATUSES: RunStatus[] = [
  'running',
  'finished',
  'failed',
  'killed',
  'scheduled'
];

/** What a trial row shows besides the run: its sweep's best trial is starred. */
interface ITrialInfo {
  best: boolean;
  metric: string | null;
}

/** The search box and the status filter of the runs list. */
export function RunsTools(props: { model: ExperimentsModel }): JSX.Element {
  const { model } = props;
  return (
    <div className="matih-runs-tools">
      <input
        className="matih-run-search jp-mod-styled"
        type="search"
        placeholder="Search runs by name"
        aria-label="Search runs by name"
        value={model.runSearch}
        onChange={e => {
          model.runSearch = e.target.value;
        }}
      />
      <select
        className="matih-run-status jp-mod-styled"
        aria-label="Only runs in this status"
        value={model.runStatus}
        onChange={e => {
          model.runStatus = e.target.value as RunStatus | '';
        }}
      >
        <option value="">any status</option>
        {STATUSES.map(s => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    </div>
  );
}

export function RunsTable(props: { model: ExperimentsModel }): JSX.Element {
  const { model } = props;
  const runs = model.runs;
  if (runs.length === 0) {
    const empty = model.runsLoading
      ? 'Loading runs…'
      : model.runsFiltered
        ? 'No run matches.'
        : 'No runs in this experiment yet.';
    return <div className="matih-empty matih-runs-empty">{empty}</div>;
  }
  const metrics = keyMetrics(runs);
  return (
    <>
      <table className="matih-table matih-runs">
        <colgroup>
          <col className="matih-col-check" />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th title="Select runs to compare">⇄</th>
            <th>Run · status · start · duration</th>
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
      <MoreRuns model={model} />
    </>
  );
}

/** How many runs are shown; the next page loads when this comes into view (or on click). */
function MoreRuns(props: { model: ExperimentsModel }): JSX.Element {
  const { model } = props;
  const more = useRef<HTMLButtonElement>(null);
  const hasMore = model.hasMoreRuns;
  useEffect(() => {
    const el = more.current;
    if (!el || !hasMore) {
      return;
    }
    const seen = new IntersectionObserver(entries => {
      if (entries.some(e => e.isIntersecting)) {
        void model.loadMoreRuns();
      }
    });
    seen.observe(el);
    return () => seen.disconnect();
  }, [model, hasMore, model.runs.length]);
  const count = model.runs.length;
  return (
    <div className="matih-more">
      <span className="matih-runs-count">
        {count} {count === 1 ? 'run' : 'runs'}
        {hasMore ? ' shown' : ''}
      </span>
      {hasMore && (
        <button
          ref={more}
          type="button"
          className="jp-Button jp-mod-styled matih-load-more"
          onClick={() => void model.loadMoreRuns()}
        >
          More runs
        </button>
      )}
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
        <td className="matih-hint">
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

/** Everything about a run, for its tooltip: the row itself shows what fits. */
function runDetails(run: IRun, status: string): string {
  const duration = formatDuration(runDuration(run));
  const lines = [
    run.name ?? run.id,
    `id ${run.id}`,
    `status ${status}`,
    `started ${new Date(run.start_time).toLocaleString()}`,
    ...(duration ? [`duration ${duration}`] : []),
    ...Object.entries(run.metrics).map(([k, v]) => `${k} = ${v ?? '–'}`)
  ];
  return lines.join('\n');
}

function RunRow(props: {
  model: ExperimentsModel;
  run: IRun;
  metrics: string[];
  trial?: ITrialInfo;
}): JSX.Element {
  const { model, run, metrics, trial } = props;
  const state = trial ? trialState(run) : null;
  const label = state?.label ?? run.status;
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
      title={runDetails(run, label)}
    >
      <td className="matih-check">
        <input
          type="checkbox"
          aria-label={`Compare ${run.name ?? run.id}`}
          checked={model.selectedRunIds.has(run.id)}
          onChange={() => void model.toggleRun(run.id)}
        />
      </td>
      <td className="matih-run-cell">
        <div className="matih-run-head">
          {run.sweep && <SweepToggle model={model} run={run} />}
          {trial && <TrialLabel run={run} trial={trial} />}
          <span className="matih-name matih-run-name">
            {run.name ?? run.id.slice(0, 8)}
          </span>
          <span
            className={`matih-status matih-status-${(state?.status ?? run.status).toLowerCase()}`}
            title={
              state ? `Trial ${state.label}, run ${run.status}` : undefined
            }
          >
            {label}
          </span>
        </div>
        <SweepSummary run={run} />
        <div className="matih-run-meta">
          <span className="matih-start">{formatTime(run.start_time)}</span>
          <span className="matih-duration">
            {formatDuration(runDuration(run))}
          </span>
        </div>
        <div className="matih-run-metrics">
          {metrics
            .filter(k => run.metrics[k] !== undefined)
            .map(k => (
              <span key={k} className="matih-metric-chip">
                <span className="matih-metric-key">{k}</span>
                <span className="matih-metric" data-metric={k}>
                  {formatMetric(run.metrics[k])}
                </span>
              </span>
            ))}
        </div>
      </td>
    </tr>
  );
}
