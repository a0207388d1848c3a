// Logits -> probabilities -> ranked labels.

import { softmax } from "./loss.ts";

export interface Prediction {
  label: string;
  index: number;
  score: number;
}

/** Ranks one example's logits; returns the top `k` (all when k >= classes). */
export function rankPredictions(logits: ArrayLike<number>, labels: readonly string[], k = labels.length): Prediction[] {
  const n = logits.length;
  if (labels.length !== n) throw new Error(`model has ${n} outputs but ${labels.length} labels`);
  const probs = new Float32Array(n);
  softmax(Float32Array.from(logits), probs, 1, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, Math.max(1, Math.min(k, n))).map((i) => ({ label: labels[i], index: i, score: probs[i] }));
}
