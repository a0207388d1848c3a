// Runs a network over a dataset in inference mode: mean loss, accuracy and every prediction.

import { softmax } from "../../shared/loss.ts";
import type { Network } from "../../shared/network.ts";
import type { PreprocessSpec } from "../../shared/preprocess.ts";
import type { Dataset } from "../dataset/dataset.ts";
import { BatchMaker } from "./batches.ts";

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
  /** Predicted class per example. */
  predictions: Int32Array;
  /** Probability of the predicted class per example. */
  scores: Float32Array;
}

export function evaluateDataset(net: Network, ds: Dataset, spec: PreprocessSpec, batch = 100, tta: "none" | "flip" = "none"): Evaluation {
  const n = ds.count, classes = net.classes;
  const predictions = new Int32Array(n), scores = new Float32Array(n);
  if (n === 0) return { loss: NaN, accuracy: NaN, count: 0, predictions, scores };
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const maker = new BatchMaker(ds, Math.min(batch, n), spec);
  const probs = new Float32Array(maker.batch * classes), flipped = new Float32Array(maker.batch * classes);
  let lossSum = 0, correct = 0;
  for (let start = 0; start < n; start += maker.batch) {
    const m = Math.min(maker.batch, n - start);
    maker.fill(order, start, m);
    softmax(net.forward(maker.x, m, false), probs, m, classes);
    if (tta === "flip") {
      maker.fillMirrored(order, start, m);
      softmax(net.forward(maker.x, m, false), flipped, m, classes);
      for (let i = 0; i < m * classes; i++) probs[i] = (probs[i] + flipped[i]) / 2;
    }
    for (let k = 0; k < m; k++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (probs[k * classes + c] > probs[k * classes + best]) best = c;
      const y = maker.labels[k];
      predictions[start + k] = best;
      scores[start + k] = probs[k * classes + best];
      lossSum -= Math.log(Math.max(probs[k * classes + y], 1e-12));
      if (best === y) correct++;
    }
  }
  return { loss: lossSum / n, accuracy: correct / n, count: n, predictions, scores };
}
