// `edge-cnn crossval`: the original design's method for small folders. N random splits (K images of
// every class held out), a model trained from scratch on each, accuracy reported as mean +- std.

import { defaultPreprocess } from "../../shared/preprocess.ts";
import { ARCHITECTURES } from "../../shared/spec.ts";
import { formatHelp, parseCommand, requireFlag, type CommandSpec } from "../cli/args.ts";
import { formatDuration, Progress } from "../cli/progress.ts";
import { meanStd, writeReport } from "../report/index.ts";
import { newRunState, runTraining } from "../training/run.ts";
import { fingerprint, loadPool, makeSplits, resolveData, type LabelsFrom } from "./data-source.ts";
import { archFrom, configFrom, trainCommand } from "./train.ts";

const shared = ["epochs", "batch", "lr", "optimizer", "schedule", "warmup", "weight-decay", "label-smoothing", "dropout", "augment", "augment-pad", "seed", "threads", "deterministic", "arch", "labels-from"];

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
  const progress = new Progress(process.stderr);
  const preprocess = defaultPreprocess();
  const pool = await loadPool(ref, progress, preprocess);
  const config = configFrom(values);
  const accuracies: number[] = [];
  const started = Date.now();
  for (let r = 0; r < (values.repeats as number); r++) {
    // Each split and each model get their own seed, derived from --seed, so the whole study is reproducible.
    const seed = config.seed + 7919 * r;
    const { train, val } = makeSplits(pool, { seed, valPerClass: values["val-per-class"] as number });
    const { arch, dropout } = archFrom(values);
    const spec = ARCHITECTURES[arch](pool.classes.length, preprocess.size[0]);
    for (const l of spec.layers) if (l.type === "dropout") l.ratio = dropout;
    const state = newRunState({ config: { ...config, seed }, spec, labels: pool.classes, preprocess, split: { train, val }, dataFingerprint: fingerprint(pool) }, pool);
    const { state: done } = await runTraining(state, pool, {
      onStep: (s) => progress.update(`split ${r + 1}/${values.repeats}  epoch ${s.epoch}/${s.epochs}  loss ${s.loss.toFixed(4)}  ${Math.round(s.imagesPerSecond)} img/s`),
    }, { threads: values.threads as number });
    const acc = config.keep === "best" ? done.best!.valAccuracy : done.epochs[done.epochs.length - 1].valAccuracy!;
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
