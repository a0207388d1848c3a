// `edge-cnn crossval`: the original design's method for small folders. N random splits (K images of
// every class held out), a model trained from scratch (or fine-tuned --from a base) on each, accuracy
// reported as mean +- std. The recipe is train's: `auto` sizes it to the folder, with its choices printed.

import { defaultPreprocess } from "../../shared/preprocess.ts";
import { chooseRecipe, formatChoice } from "../training/auto-recipe.ts";
import { formatHelp, parseCommand, requireFlag, UsageError, type CommandSpec } from "../cli/args.ts";
import type { ViewSet } from "../../shared/views.ts";
import { subset } from "../dataset/dataset.ts";
import { evaluateDataset } from "../training/evaluate.ts";
import { formatDuration, Progress } from "../cli/progress.ts";
import { meanStd, writeReport } from "../report/index.ts";
import { newRunState, runTraining } from "../training/run.ts";
import { fingerprint, loadPool, makeSplits, resolveData, type LabelsFrom } from "./data-source.ts";
import { baseFrom, configFrom, keptChoices, specFrom, startFromBase, trainCommand } from "./train.ts";

const shared = ["recipe", "input-size", "from", "freeze-body", "body-lr", "epochs", "batch", "lr", "optimizer", "schedule", "warmup", "weight-decay", "label-smoothing", "dropout", "augment", "augment-pad", "seed", "threads", "deterministic", "arch", "keep", "tta", "labels-from"];

export const crossvalCommand: CommandSpec = {
  name: "crossval",
  summary: "mean +- std accuracy over N random splits, training from scratch on each",
  usage: "edge-cnn crossval --data DIR --repeats N --val-per-class K [train options]",
  flags: {
    data: { type: "string", arg: "DIR", help: "image folder (one sub-folder per class)" },
    repeats: { type: "int", min: 2, max: 1000, default: 5, help: "number of random splits" },
    "val-per-class": { type: "int", min: 1, default: 10, help: "images of every class held out in each split" },
    ...Object.fromEntries(shared.map((k) => [k, trainCommand.flags[k]])),
    report: { type: "string", arg: "DIR", help: "write a report folder (accuracy per split)" },
    json: { type: "boolean", help: "print JSON for scripts" },
  },
};

export async function runCrossval(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(crossvalCommand, argv);
  if (help) { out(formatHelp(crossvalCommand)); return 0; }
  const ref = await resolveData(requireFlag(crossvalCommand, values, "data"), values["labels-from"] as LabelsFrom);
  if (ref.kind === "cifar10") throw new UsageError("edge-cnn crossval: --data must be an image folder (CIFAR-10 has its own test batch: use train and evaluate)");
  const base = baseFrom(values, "crossval", ref.kind);
  const progress = new Progress(process.stderr);
  const size = values["input-size"] as number;
  const preprocess = defaultPreprocess([size, size]);
  const pool = await loadPool(ref, progress, preprocess);
  // Every split holds out the same number of images, so one recipe (and one set of choices) fits all.
  const valCount = (values["val-per-class"] as number) * pool.classes.length;
  const facts = { kind: ref.kind, train: pool.count - valCount, val: valCount, classes: pool.classes.length, size, fineTune: base !== null };
  const { recipe, choices } = chooseRecipe(values.recipe as string, facts, { batch: values.batch as number | undefined, epochs: values.epochs as number | undefined });
  const config = configFrom(values, recipe);
  preprocess.views = (values.tta as ViewSet | undefined) ?? recipe.views;
  const { spec, choices: archChoices } = specFrom(values, recipe, pool.classes.length, size, base);
  for (const c of [...keptChoices(choices, argv), ...archChoices]) progress.log(formatChoice(c));
  const accuracies: number[] = [];
  const started = Date.now();
  for (let r = 0; r < (values.repeats as number); r++) {
    // Each split and each model get their own seed, derived from --seed, so the whole study is reproducible.
    const seed = config.seed + 7919 * r;
    const { train, val } = makeSplits(pool, { seed, valPerClass: values["val-per-class"] as number });
    const state = newRunState({ config: { ...config, seed }, spec, labels: pool.classes, preprocess, split: { train, val }, dataFingerprint: fingerprint(pool) }, pool);
    if (base) {
      const from = startFromBase(state, base);
      if (r === 0) progress.log(formatChoice(from));
    }
    const { net } = await runTraining(state, pool, {
      onStep: (s) => progress.update(`split ${r + 1}/${values.repeats}  epoch ${s.epoch}/${s.epochs}  loss ${s.loss.toFixed(4)}  ${Math.round(s.imagesPerSecond)} img/s`),
    }, { threads: values.threads as number });
    // The kept weights (best or last epoch), classified as train's final measurement: with the model's views.
    const acc = evaluateDataset(net, subset(pool, val), preprocess, 100, preprocess.views ?? "none").accuracy;
    accuracies.push(acc);
    progress.log(`split ${r + 1}/${values.repeats}: ${(100 * acc).toFixed(2)}% of ${val.length} held-out images`);
  }
  const { mean, std } = meanStd(accuracies);
  const result = { data: ref.path, repeats: accuracies.length, valPerClass: values["val-per-class"], accuracies, mean, std, seconds: (Date.now() - started) / 1000 };
  if (values.report) {
    await writeReport(values.report as string, {
      title: `cross-validation on ${ref.path}`, command: ["edge-cnn", "crossval", ...argv].join(" "),
      crossval: { accuracies, mean, std }, seconds: result.seconds, extra: { ...config, augment: config.augment.flip ? "flip + crop" : "off" },
    });
  }
  if (values.json) out(JSON.stringify(result, null, 2));
  else out(`accuracy ${(100 * mean).toFixed(2)}% +- ${(100 * std).toFixed(2)}% over ${accuracies.length} splits (${accuracies.map((a) => (100 * a).toFixed(1)).join(", ")}) in ${formatDuration(result.seconds)}`);
  return 0;
}
