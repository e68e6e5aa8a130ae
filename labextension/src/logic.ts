/**
 * Pure rules the views and the state share: no JupyterLab imports, so they are easy to reason
 * about (and to test) on their own.
 */

/** Model version stages, in lifecycle order. */
export const STAGES = [
  'development',
  'staging',
  'production',
  'archived'
] as const;

/**
 * Every move the lifecycle allows (mirrors the core's ALLOWED_TRANSITIONS): development ->
 * staging, staging -> production, production -> archived, any other stage -> development.
 */
export const ALLOWED_TRANSITIONS: Record<string, readonly string[]> = {
  development: ['staging'],
  staging: ['production', 'development'],
  production: ['archived', 'development'],
  archived: ['development']
};

/** The stages a version in `stage` may move to (none for an unknown stage). */
export function allowedMoves(stage: string): readonly string[] {
  return ALLOWED_TRANSITIONS[stage] ?? [];
}

/** The label of the button that moves a version to `target`. */
export function moveLabel(from: string, target: string): string {
  if (target === 'archived') {
    return 'Archive';
  }
  if (target === 'development') {
    return 'Back to development';
  }
  return `Promote to ${target}`;
}

/** A duration for people: 850 ms, 42 s, 3 min 5 s, 2 h 4 min. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }
  const s = Math.round(seconds);
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A live run's duration from its start time (the API has none until it ends). */
export function runDuration(
  run: { start_time: string; duration_seconds: number | null; status: string },
  now: number = Date.now()
): number | null {
  if (run.duration_seconds !== null && run.duration_seconds !== undefined) {
    return run.duration_seconds;
  }
  const start = Date.parse(run.start_time);
  if (run.status.toLowerCase() !== 'running' || isNaN(start)) {
    return null;
  }
  return Math.max(0, (now - start) / 1000);
}

/** A short local time (with the date when not today); the full date goes in a tooltip. */
export function formatTime(
  iso: string | null | undefined,
  now: Date = new Date()
): string {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  if (isNaN(d.getTime())) {
    return iso;
  }
  const time = d.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false
  });
  if (d.toDateString() === now.toDateString()) {
    return time;
  }
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time}`;
}

/** A metric value in at most 4 significant digits. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '–';
  }
  if (!isFinite(value)) {
    return String(value);
  }
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) {
    return value.toExponential(2);
  }
  return String(Number(value.toPrecision(4)));
}

/** The params whose values differ between runs (a key missing in a run counts as different). */
export function differingParams(
  runs: readonly { id: string; params: Record<string, string> }[]
): { key: string; values: (string | undefined)[] }[] {
  const keys = new Set<string>();
  runs.forEach(r => Object.keys(r.params).forEach(k => keys.add(k)));
  const out: { key: string; values: (string | undefined)[] }[] = [];
  [...keys].sort().forEach(key => {
    const values = runs.map(r => r.params[key]);
    if (new Set(values).size > 1) {
      out.push({ key, values });
    }
  });
  return out;
}

/** The metric keys several runs share first, then the others, each group sorted. */
export function comparableMetrics(
  runs: readonly { metrics: Record<string, unknown> }[]
): string[] {
  const count = new Map<string, number>();
  runs.forEach(r =>
    Object.keys(r.metrics).forEach(k => count.set(k, (count.get(k) ?? 0) + 1))
  );
  return [...count.keys()].sort((a, b) => {
    const shared = (count.get(b) ?? 0) - (count.get(a) ?? 0);
    return shared !== 0 ? shared : a.localeCompare(b);
  });
}

/** Keys worth a column in the runs table: the most common metrics, at most `limit`. */
export function keyMetrics(
  runs: readonly { metrics: Record<string, unknown> }[],
  limit = 3
) {
  return comparableMetrics(runs).slice(0, limit);
}

/** The tags a sweep's trial carries (written by the core's `tracker.sweep`). */
export const TRIAL_TAG = 'matih.sweep.trial';
export const TRIAL_STATE_TAG = 'matih.sweep.trial_state';

/** A trial's number, or null for a run that is no trial. */
export function trialNumber(run: {
  tags: Record<string, string>;
}): number | null {
  const n = parseInt(run.tags[TRIAL_TAG] ?? '', 10);
  return isNaN(n) ? null : n;
}

/** Trials in trial order (runs without a number last, by start). */
export function sortTrials<
  T extends { tags: Record<string, string>; start_time: string }
>(runs: readonly T[]): T[] {
  const key = (r: T) => trialNumber(r) ?? Number.MAX_SAFE_INTEGER;
  return [...runs].sort(
    (a, b) => key(a) - key(b) || a.start_time.localeCompare(b.start_time)
  );
}

/**
 * How a trial ended, in Optuna's words (complete, pruned, fail) and the run status it maps
 * to for colour; a trial still running has no state yet and shows its run's status.
 */
export function trialState(run: {
  status: string;
  tags: Record<string, string>;
}): { label: string; status: string } {
  const state = run.tags[TRIAL_STATE_TAG]?.toLowerCase();
  const status = run.status.toLowerCase();
  return { label: state ?? status, status };
}
