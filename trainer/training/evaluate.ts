// Runs a network over a dataset in inference mode: mean loss, accuracy and every prediction.

import { softmax } from "../../shared/loss.ts";
import type { Network } from "../../shared/network.ts";
import type { PreprocessSpec } from "../../shared/preprocess.ts";
import { forwardViews, viewsOf, type ViewSet } from "../../shared/views.ts";
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

/**
 * `views`: the test-time views whose logits are averaged (views.ts; the model's default is
 * preprocess.views). Batches hold `batch` examples in all, views included.
 */
export function evaluateDataset(net: Network, ds: Dataset, spec: PreprocessSpec, batch = 100, views: ViewSet = "none"): Evaluation {
  const n = ds.count, classes = net.classes;
  const predictions = new Int32Array(n), scores = new Float32Array(n);
  if (n === 0) return { loss: NaN, accuracy: NaN, count: 0, predictions, scores };
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const V = viewsOf(views).length, per = Math.max(1, Math.floor(batch / V));
  const maker = new BatchMaker(ds, Math.min(per, n), spec);
  const probs = new Float32Array(maker.batch * classes);
  const bytes = ds.size[0] * ds.size[1] * 3;
  let lossSum = 0, correct = 0;
  for (let start = 0; start < n; start += maker.batch) {
    const m = Math.min(maker.batch, n - start);
    maker.fill(order, start, m); // the labels (and the plain view's input)
    const logits = V === 1 ? net.forward(maker.x, m, false)
      : forwardViews(net, m, (k) => ds.images.subarray((start + k) * bytes, (start + k + 1) * bytes), spec, views);
    softmax(logits, probs, m, classes);
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
