// Turns a run's state and final evaluations into the report folder: log.jsonl (every step's loss and
// every epoch's accuracies), the pictures and index.html (trainer/report draws them).

import { join } from "node:path";
import { Rng } from "../../shared/rng.ts";
import { writeFileAtomic } from "../atomic-write.ts";
import { example, type Dataset } from "../dataset/dataset.ts";
import { confusionMatrix, writeReport, type ReportData, type ReportResult, type Sample } from "../report/index.ts";
import type { Evaluation as ReportEvaluation } from "../report/types.ts";
import type { Evaluation } from "../training/evaluate.ts";
import type { RunState } from "../training/run.ts";
import type { Job } from "./train.ts";

export interface FinalResults {
  val: Dataset | null;
  valEval: Evaluation | null;
  test: Dataset | null;
  testEval: Evaluation | null;
}

/** The report's evaluation block for one dataset. */
export function evaluationBlock(ds: Dataset, ev: Evaluation, what: string): ReportEvaluation {
  return {
    accuracy: ev.accuracy, loss: ev.loss, labels: ds.classes,
    confusion: confusionMatrix(ds.labels.subarray(0, ev.count), ev.predictions, ds.classes),
    dataset: `${what} (${ev.count} images)`,
  };
}

/** Up to `count` random examples with their predictions, for the sample grid. */
export function pickSamples(ds: Dataset, ev: Evaluation, count: number, seed: number): Sample[] {
  const order = Array.from({ length: ds.count }, (_, i) => i);
  new Rng(seed).shuffle(order);
  return order.slice(0, count).map((i) => ({
    rgb: example(ds, i).slice(), size: ds.size, label: ds.classes[ds.labels[i]],
    predicted: ds.classes[ev.predictions[i]], score: ev.scores[i],
    ...(ds.sources ? { source: ds.sources[i] } : {}),
  }));
}

export function logLines(state: RunState): string {
  const lines: string[] = [];
  const perEpoch = Math.ceil(state.split.train.length / state.config.batch);
  for (let s = 0; s < state.step; s++) lines.push(JSON.stringify({ type: "step", step: s + 1, epoch: Math.floor(s / perEpoch) + 1, loss: state.stepLoss[s] }));
  for (const e of state.epochs) lines.push(JSON.stringify({ type: "epoch", ...e }));
  return lines.join("\n") + "\n";
}

export async function writeRunReport(dir: string, job: Job, state: RunState, final: FinalResults | null): Promise<ReportResult> {
  writeFileAtomic(join(dir, "log.jsonl"), logLines(state));
  const perEpoch = Math.ceil(state.split.train.length / state.config.batch);
  const data: ReportData = {
    title: `${job.name} · ${state.spec.name} · ${state.epochs.length} epoch${state.epochs.length === 1 ? "" : "s"}`,
    command: job.command,
    model: final ? job.out : undefined,
    seconds: state.seconds,
    steps: Array.from(state.stepLoss.subarray(0, state.step), (loss, i) => ({ step: i + 1, loss })),
    epochs: state.epochs.map((e) => ({ ...e, step: e.epoch * perEpoch })),
    extra: {
      data: job.data.path, classes: state.labels.length,
      "train images": state.split.train.length, "validation images": state.split.val.length,
      ...state.config, augment: state.config.augment.flip ? `flip + crop (pad ${state.config.augment.pad})` : "off",
      dtype: job.dtype,
      ...(final?.testEval ? { "test accuracy": `${(100 * final.testEval.accuracy).toFixed(2)} % (${final.testEval.count} images)` } : {}),
    },
  };
  if (final?.val && final.valEval) {
    data.evaluation = evaluationBlock(final.val, final.valEval, "validation");
    data.samples = pickSamples(final.val, final.valEval, 24, state.config.seed);
  }
  return writeReport(dir, data);
}
