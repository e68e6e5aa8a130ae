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

/** Which way a metric improves: names of losses and errors go down, the rest go up. */
export function defaultGoal(metric: string): 'min' | 'max' {
  return /loss|error|err\b|mse|mae|rmse|perplexity|^time|duration|latency/i.test(
    metric
  )
    ? 'min'
    : 'max';
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
