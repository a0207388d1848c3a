// `edge-cnn evaluate`: accuracy, per-class precision/recall/accuracy, confusion matrix and mean loss of
// a model on a dataset split.

import { subset, type Dataset } from "../dataset/dataset.ts";
import { DatasetError } from "../dataset/errors.ts";
import { formatHelp, parseCommand, requireFlag, UsageError, type CommandSpec } from "../cli/args.ts";
import { Progress } from "../cli/progress.ts";
import { readModelFile } from "../model-io.ts";
import { perClassMetrics, writeReport } from "../report/index.ts";
import { evaluateDataset } from "../training/evaluate.ts";
import { fingerprint, loadPool, loadTestSet, makeSplits, resolveData, type LabelsFrom, type SplitSpec } from "./data-source.ts";
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
    tta: { type: "string", choices: ["none", "flip"], default: "none", help: "test-time augmentation: average with the mirror image" },
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
  const mismatch = ds.classes.length !== model.meta.labels.length || ds.classes.some((c, i) => c !== model.meta.labels[i]);
  if (mismatch) {
    throw new DatasetError(`the data's classes (${ds.classes.join(", ")}) do not match the model's labels (${model.meta.labels.join(", ")})`);
  }
  progress.update(`evaluating ${ds.count} images ...`, true);
  const ev = evaluateDataset(model.net, ds, model.meta.preprocess, 100, values.tta as "none" | "flip");
  progress.endLine();
  const block = evaluationBlock(ds, ev, `${what} of ${dataPath}`);
  const perClass = perClassMetrics(block.confusion, ds.classes);
  const result = { model: modelPath, data: dataPath, split: what, count: ev.count, accuracy: ev.accuracy, loss: ev.loss, tta: values.tta, perClass, confusion: block.confusion };
  if (values.report) {
    await writeReport(values.report as string, {
      title: `${model.meta.name} evaluated on ${what} (${ev.count} images)`, model: modelPath,
      command: ["edge-cnn", "evaluate", ...argv].join(" "), evaluation: block, samples: pickSamples(ds, ev, 24, 1),
    });
  }
  if (values.json) { out(JSON.stringify(result, null, 2)); return 0; }
  const w = Math.max(5, ...ds.classes.map((c) => c.length));
  out(`${model.meta.name} on ${what === which ? `${which} split` : what} of ${dataPath}: accuracy ${(100 * ev.accuracy).toFixed(2)}% of ${ev.count} images, mean loss ${ev.loss.toFixed(4)}${values.tta === "flip" ? " (flip TTA)" : ""}`);
  out(`${"class".padEnd(w)}  precision  recall  support`);
  for (const c of perClass) out(`${c.label.padEnd(w)}  ${(100 * c.precision).toFixed(1).padStart(8)}%  ${(100 * c.recall).toFixed(1).padStart(5)}%  ${String(c.support).padStart(7)}`);
  out("confusion matrix (rows: true, columns: predicted):");
  for (let i = 0; i < ds.classes.length; i++) out(`${ds.classes[i].padEnd(w)}  ${block.confusion[i].map((n) => String(n).padStart(5)).join("")}`);
  if (values.report) out(`report: ${values.report}/index.html`);
  return 0;
}
