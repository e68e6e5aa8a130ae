/**
 * Exponential moving average, debiased as TensorBoard does: early points are not pulled
 * towards zero, because each value is divided by the weight the average has gathered so
 * far. Non-finite values stay gaps and do not reset the average.
 */
export function debiasedEma(
  values: ArrayLike<number | null>,
  weight: number
): (number | null)[] {
  const out: (number | null)[] = new Array(values.length);
  if (weight <= 0) {
    for (let i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !isFinite(v)) {
      out[i] = null;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    count += 1;
    out[i] = last / (1 - Math.pow(weight, count));
  }
  return out;
}

/** Words in metric names that mean "minimised" (the kernel's widgets use the same list);
 * matched per word, so "val_loss" and "train/mse" go down and "answer_acc" goes up. */
const LOWER_WORDS = new Set([
  'loss',
  'err',
  'error',
  'errors',
  'mse',
  'rmse',
  'mae',
  'mape',
  'smape',
  'perplexity',
  'ppl',
  'latency',
  'time',
  'seconds',
  'duration',
  'cost',
  'regret',
  'wer',
  'cer',
  'fpr',
  'fnr',
  'bpc',
  'nll',
  'distance'
]);

/** Which way a metric improves when nobody said: losses and errors go down. */
export function defaultGoal(metric: string): 'min' | 'max' {
  const words = metric
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(w => w);
  const lower = words.some(
    w => LOWER_WORDS.has(w) || w.endsWith('loss') || w.endsWith('error')
  );
  return lower ? 'min' : 'max';
}

/** The index of the best value so far (the last point at which it was reached). */
export function bestIndex(
  values: ArrayLike<number | null>,
  goal: 'min' | 'max'
): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !isFinite(v)) {
      continue;
    }
    const b = best < 0 ? null : (values[best] as number);
    if (b === null || (goal === 'min' ? v <= b : v >= b)) {
      best = i;
    }
  }
  return best;
}
