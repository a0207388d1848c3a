// `edge-cnn evaluate`: accuracy, per-class precision/recall/accuracy, confusion matrix and mean loss of
// a model on a dataset split.

import { subset, type Dataset } from "../dataset/dataset.ts";
import { DatasetError } from "../dataset/errors.ts";
import { formatHelp, parseCommand, requireFlag, UsageError, type CommandSpec } from "../cli/args.ts";
import { Progress } from "../cli/progress.ts";
import { defaultViews, VIEW_SETS, type ViewSet } from "../../shared/views.ts";
import { readModelFile } from "../model-io.ts";
import { perClassMetrics, writeReport } from "../report/index.ts";
import { evaluateDataset } from "../training/evaluate.ts";
import { fingerprint, loadPool, loadTestSet, makeSplits, resolveData, type DataRef, type LabelsFrom, type SplitSpec } from "./data-source.ts";
import type { LoadedNetwork } from "../../shared/model-file.ts";
import { evaluationBlock, pickSamples } from "./run-report.ts";

export const evaluateCommand: CommandSpec = {
  name: "evaluate",
  summary: "accuracy, per-class metrics, confusion matrix and mean loss of a model on a dataset",
  usage: "edge-cnn evaluate --model models/NAME.bin --data PATH [--split test|val|train|all] [--json] [--report DIR]",
  flags: {
    model: { type: "string", arg: "FILE", help: "model file" },
    data: { type: "string", arg: "PATH", help: "CIFAR-10 or an image folder (classes must match the model's labels)" },
    split: { type: "string", choices: ["test", "val", "train", "all"], default: "test", help: "test: CIFAR-10's test batch or a folder's --test-fraction hold-out (the whole folder if none); val/train: the split training used" },
    "labels-from": { type: "string", choices: ["folder", "prefix"], default: "folder", help: "how an image folder names classes" },
    tta: { type: "string", choices: VIEW_SETS, help: "test-time views whose logits are averaged: none, flip (the mirror image too), flip-translate (airbench's 6 views); default: the model's own (preprocess.views)" },
    report: { type: "string", arg: "DIR", help: "write a report folder (confusion matrix, samples, metrics.json)" },
    json: { type: "boolean", help: "print JSON for scripts" },
  },
};

export async function runEvaluate(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(evaluateCommand, argv);
  if (help) { out(formatHelp(evaluateCommand)); return 0; }
  const modelPath = requireFlag(evaluateCommand, values, "model");
  const dataPath = requireFlag(evaluateCommand, values, "data");
  const model = readModelFile(modelPath);
  const progress = new Progress(process.stderr, 10, !!values.json && !process.stderr.isTTY);
  const ref = await resolveData(dataPath, values["labels-from"] as LabelsFrom);
  const which = values.split as "test" | "val" | "train" | "all";

  const { ds, what } = await evaluationSet(model, modelPath, ref, dataPath, which, progress);
  const mismatch = ds.classes.length !== model.meta.labels.length || ds.classes.some((c, i) => c !== model.meta.labels[i]);
  if (mismatch) {
    throw new DatasetError(`the data's classes (${ds.classes.join(", ")}) do not match the model's labels (${model.meta.labels.join(", ")})`);
  }
  progress.update(`evaluating ${ds.count} images ...`, true);
  const views = (values.tta as ViewSet | undefined) ?? defaultViews(model.meta.preprocess);
  const ev = evaluateDataset(model.net, ds, model.meta.preprocess, 100, views);
  progress.endLine();
  const block = evaluationBlock(ds, ev, `${what} of ${dataPath}`);
  const perClass = perClassMetrics(block.confusion, ds.classes);
  const result = { model: modelPath, data: dataPath, split: what, count: ev.count, accuracy: ev.accuracy, loss: ev.loss, tta: views, perClass, confusion: block.confusion };
  if (values.report) {
    await writeReport(values.report as string, {
      title: `${model.meta.name} evaluated on ${what} (${ev.count} images)`, model: modelPath,
      command: ["edge-cnn", "evaluate", ...argv].join(" "), evaluation: block, samples: pickSamples(ds, ev, 24, 1),
    });
  }
  if (values.json) { out(JSON.stringify(result, null, 2)); return 0; }
  const w = Math.max(5, ...ds.classes.map((c) => c.length));
  out(`${model.meta.name} on ${what === which ? `${which} split` : what} of ${dataPath}: accuracy ${(100 * ev.accuracy).toFixed(2)}% of ${ev.count} images, mean loss ${ev.loss.toFixed(4)}${views !== "none" ? ` (views: ${views})` : ""}`);
  out(`${"class".padEnd(w)}  precision  recall  support`);
  for (const c of perClass) out(`${c.label.padEnd(w)}  ${(100 * c.precision).toFixed(1).padStart(8)}%  ${(100 * c.recall).toFixed(1).padStart(5)}%  ${String(c.support).padStart(7)}`);
  out("confusion matrix (rows: true, columns: predicted):");
  for (let i = 0; i < ds.classes.length; i++) out(`${ds.classes[i].padEnd(w)}  ${block.confusion[i].map((n) => String(n).padStart(5)).join("")}`);
  if (values.report) out(`report: ${values.report}/index.html`);
  return 0;
}

/**
 * The images of split `which` of the data a model was trained on, rebuilt from the split recorded in
 * its provenance (CIFAR-10's test batch for "test" on CIFAR-10). `what` names it for messages.
 */
export async function evaluationSet(
  model: LoadedNetwork, modelPath: string, ref: DataRef, dataPath: string, which: "test" | "val" | "train" | "all", progress: Progress,
): Promise<{ ds: Dataset; what: string }> {
  // The split training used is in the model's provenance; reproduce it exactly.
  let splitSpec: SplitSpec | null = null;
  try { splitSpec = JSON.parse(String(model.meta.provenance.split)) as SplitSpec; } catch { /* a model from elsewhere */ }
  let ds: Dataset;
  let what: string = which;
  if (which === "test" && ref.kind === "cifar10") {
    ds = (await loadTestSet(ref))!;
  } else {
    const pool = await loadPool(ref, progress, model.meta.preprocess);
    if (which === "all" || (which === "test" && !splitSpec?.testFraction)) {
      ds = pool;
      if (which === "test") {
        what = "all images (no test hold-out recorded)";
        progress.log(`note: ${modelPath} was trained without --test-fraction, so there is no held-out test set; evaluating every image in ${dataPath}, including the ones it was trained on`);
      }
    } else {
      if (!splitSpec) throw new UsageError(`edge-cnn evaluate: ${modelPath} does not record its training split, so --split ${which} cannot be reproduced; use --split all`);
      // The split is rebuilt from the seed, so it is only the same split on the same data.
      const recorded = model.meta.provenance.data_fingerprint;
      if (typeof recorded === "string" && recorded !== fingerprint(pool)) {
        throw new DatasetError(`the images in ${dataPath} are not the ones ${modelPath} was trained on (files added, removed or changed), so its ${which} split cannot be reproduced; use --split all, or evaluate on the original folder. ` +
          "(A model trained before edge-cnn decoded JPEG, PNG and WebP at reduced scale sees different pixels from the same files: retrain it.)");
      }
      const s = makeSplits(pool, splitSpec);
      ds = subset(pool, which === "test" ? s.test : which === "val" ? s.val : s.train);
    }
  }
  return { ds, what };
}
