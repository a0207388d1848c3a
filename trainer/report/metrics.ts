// Pure numbers behind the report, reused by `evaluate` and `crossval`.

import type { ClassMetrics } from "./types.ts";

/**
 * confusion[t][p] = number of examples with true label t predicted as p.
 * `classes` is the class count or the class names.
 */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  classes: number | readonly string[],
): number[][] {
  const n = typeof classes === "number" ? classes : classes.length;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`confusionMatrix: need at least 1 class, got ${n}`);
  if (labels.length !== predictions.length) {
    throw new RangeError(`confusionMatrix: ${labels.length} labels but ${predictions.length} predictions`);
  }
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i], p = predictions[i];
    if (!Number.isInteger(t) || t < 0 || t >= n) throw new RangeError(`confusionMatrix: label ${t} at index ${i} is not a class index 0..${n - 1}`);
    if (!Number.isInteger(p) || p < 0 || p >= n) throw new RangeError(`confusionMatrix: prediction ${p} at index ${i} is not a class index 0..${n - 1}`);
    m[t][p]++;
  }
  return m;
}

/**
 * Precision, recall (= per-class accuracy), F1 and support of every class from a confusion matrix
 * (rows true, columns predicted). A class never predicted has precision 0; a class without examples
 * has recall 0 (the scikit-learn zero_division=0 convention), so every number is finite.
 */
export function perClassMetrics(confusion: readonly (readonly number[])[], labels: readonly string[]): ClassMetrics[] {
  const n = confusion.length;
  if (labels.length !== n) throw new RangeError(`perClassMetrics: ${labels.length} labels for a ${n}x${n} confusion matrix`);
  for (const [i, row] of confusion.entries()) {
    if (row.length !== n) throw new RangeError(`perClassMetrics: confusion row ${i} has ${row.length} entries, expected ${n}`);
  }
  return labels.map((label, c) => {
    let support = 0, predicted = 0;
    for (let k = 0; k < n; k++) { support += confusion[c][k]; predicted += confusion[k][c]; }
    const tp = confusion[c][c];
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, accuracy: recall, f1, support };
  });
}

/** Overall accuracy (trace / total) of a confusion matrix; NaN when it is empty. */
export function confusionAccuracy(confusion: readonly (readonly number[])[]): number {
  let right = 0, total = 0;
  confusion.forEach((row, t) => row.forEach((v, p) => { total += v; if (t === p) right += v; }));
  return total > 0 ? right / total : NaN;
}

/** Mean and population standard deviation (divide by n, like numpy.std); NaN for no values. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / n) };
}
