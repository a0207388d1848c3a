// Softmax + cross-entropy, numerically stable (the max logit is subtracted before exp).
// Optional label smoothing: the target puts 1-eps on the true class and eps/classes on every class.

/** Softmax of each row of `logits` [n x classes] into `probs` (may be the same array). */
export function softmax(logits: Float32Array, probs: Float32Array, n: number, classes: number): void {
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (logits[o + c] > max) max = logits[o + c];
    let sum = 0;
    for (let c = 0; c < classes; c++) { const e = Math.exp(logits[o + c] - max); probs[o + c] = e; sum += e; }
    for (let c = 0; c < classes; c++) probs[o + c] /= sum;
  }
}

export interface LossResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** Examples whose top-scoring class is the label. */
  correct: number;
}

/**
 * Mean softmax cross-entropy of `logits` against integer `labels`; writes d(loss)/d(logits) into
 * `dlogits` (may be null for evaluation). Log-probabilities are computed as (z - max) - log(sum),
 * so no probability underflows to log(0). When these n rows are one part of a batch of `meanOver`
 * examples, loss and gradient are this part's share of the batch mean (the parts' sums give the mean).
 */
export function softmaxCrossEntropy(
  logits: Float32Array, labels: ArrayLike<number>, n: number, classes: number,
  dlogits: Float32Array | null, smoothing = 0, meanOver = n,
): LossResult {
  let total = 0, correct = 0;
  const off = smoothing / classes, on = 1 - smoothing + off;
  for (let i = 0; i < n; i++) {
    const o = i * classes, y = labels[i];
    let max = -Infinity, arg = 0;
    for (let c = 0; c < classes; c++) if (logits[o + c] > max) { max = logits[o + c]; arg = c; }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - max);
    const logSum = Math.log(sum);
    let li = 0;
    for (let c = 0; c < classes; c++) {
      const target = c === y ? on : off;
      if (target !== 0) li -= target * (logits[o + c] - max - logSum);
      if (dlogits) dlogits[o + c] = (Math.exp(logits[o + c] - max - logSum) - target) / meanOver;
    }
    total += li;
    if (arg === y) correct++;
  }
  return { loss: total / meanOver, correct };
}
