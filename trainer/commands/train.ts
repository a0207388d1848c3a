// `edge-cnn train`: data -> a model file, a report folder and checkpoints you can resume from.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import os from "node:os";
import { basename, join, resolve } from "node:path";
import { encodeModel, loadNetwork, MODEL_DTYPES, type ModelDtype, type ModelMeta } from "../../shared/model-file.ts";
import { defaultPreprocess } from "../../shared/preprocess.ts";
import { ARCHITECTURE_NOTES, ARCHITECTURES } from "../../shared/spec.ts";
import { OPTIMIZERS } from "../../shared/optimizer.ts";
import { AUTO_RECIPE, AUTO_SUMMARY, RECIPE_NAMES, RECIPES, type Recipe } from "../training/recipes.ts";
import { chooseRecipe, chooseTestFraction, formatChoice, type Choice } from "../training/auto-recipe.ts";
import { chooseDtype } from "../training/choose-dtype.ts";
import { copyBody, DEFAULT_BASE, DEFAULT_BASE_WHY, fineTuneSpec, readBaseModel, type BaseModel } from "../training/fine-tune.ts";
import { Network } from "../../shared/network.ts";
import type { ArchSpec } from "../../shared/spec.ts";
import { defaultViews, VIEW_SETS, type ViewSet } from "../../shared/views.ts";
import { DivergenceError } from "../../shared/train-step.ts";
import { checkWritableDir, checkWritableFile, writeFileAtomic } from "../atomic-write.ts";
import { bestKernelsName, loadBestKernels } from "../kernels-node.ts";
import { formatHelp, parseCommand, UsageError, type CommandSpec, type FlagValues } from "../cli/args.ts";
import { formatDuration, Progress } from "../cli/progress.ts";
import { subset, type Dataset } from "../dataset/dataset.ts";
import { CheckpointError, loadCheckpoint, saveCheckpoint } from "../training/checkpoint.ts";
import { evaluateDataset, type Evaluation } from "../training/evaluate.ts";
import { newRunState, runTraining, stepsPerEpoch, type RunState, type TrainConfig } from "../training/run.ts";
import { SCHEDULES, type ScheduleKind } from "../training/schedule.ts";
import { DETERMINISTIC_PARTS } from "../training/batch-parts.ts";
import { dataName, fingerprint, loadPool, loadTestSet, makeSplits, resolveData, type DataRef, type LabelsFrom, type SplitSpec } from "./data-source.ts";
import { writeRunReport } from "./run-report.ts";
import { INGREDIENTS, parseWithout, removeIngredients } from "../training/ablation.ts";

export const trainCommand: CommandSpec = {
  name: "train",
  summary: "train a model on CIFAR-10 or a folder of photos (one sub-folder per class)",
  usage: "edge-cnn train --data PATH [--out models/NAME.bin] [--epochs N] [options]\n       edge-cnn train --resume checkpoints/NAME/last.ckpt",
  flags: {
    data: { type: "string", arg: "PATH", help: "CIFAR-10 (batches folder or cifar-10-binary.tar.gz) or an image folder" },
    out: { type: "string", arg: "FILE", help: "model file to write (default: models/<data name>.bin)" },
    recipe: { type: "string", choices: RECIPE_NAMES, default: "auto", help: "every setting below at once (each flag overrides one); the recipes are listed below" },
    "input-size": { type: "int", min: 8, max: 512, default: 32, help: "image folders: the model's input is N x N pixels (preprocessing, decode cache, network, model file); CIFAR-10 is 32" },
    from: { type: "string", arg: "FILE", help: "fine-tune: start from this model file's body (its architecture, a new classifier head for these classes); recipe auto on an image folder: the shipped models/cifar10.bin unless --arch; none: from scratch" },
    "freeze-body": { type: "boolean", help: "with --from: train only the classifier head" },
    "body-lr": { type: "number", min: 0, max: 10, help: "with --from: the body's learning rate as a multiple of --lr (e.g. 0.1)" },
    epochs: { type: "int", min: 1, max: 10000, help: "passes over the training set (recipe's)" },
    batch: { type: "int", min: 1, max: 4096, help: "images per step (recipe's)" },
    lr: { type: "number", min: 0, max: 100, help: "learning rate (recipe's; 1e-3 for adam, 1e-2 for sgd/momentum when changing --optimizer)" },
    optimizer: { type: "string", choices: OPTIMIZERS, help: "optimiser (recipe's)" },
    schedule: { type: "string", choices: SCHEDULES, help: "learning-rate schedule (recipe's)" },
    warmup: { type: "int", min: 0, help: "warm-up steps (linear ramp to --lr)" },
    "weight-decay": { type: "number", min: 0, max: 1, help: "weight decay (decoupled, AdamW-style; PyTorch's for nesterov)" },
    "label-smoothing": { type: "number", min: 0, max: 0.5, help: "label smoothing epsilon (recipe's)" },
    dropout: { type: "number", min: 0, max: 0.95, help: "dropout ratio of the dropout layers (recipe's)" },
    augment: { type: "boolean", help: "random crop (4-pixel padding) + horizontal flip (instead of the recipe's augmentation)" },
    "augment-pad": { type: "int", min: 0, max: 16, default: 4, help: "crop padding in pixels when augmenting" },
    seed: { type: "int", min: 0, default: 1, help: "seed for init, split, shuffling, augmentation and dropout" },
    threads: { type: "int", min: 1, max: 1024, default: os.availableParallelism(), help: "threads for each training step, data parallel (all cores by default; running several trainings at once, split the cores between them)" },
    deterministic: { type: "boolean", help: `bit-identical results for any --threads: each batch is cut into ${DETERMINISTIC_PARTS} fixed parts (a little slower; uses at most ${DETERMINISTIC_PARTS} threads)` },
    arch: { type: "string", choices: Object.keys(ARCHITECTURES), help: `architecture (recipe's): ${Object.entries(ARCHITECTURE_NOTES).map(([k, v]) => `${k}: ${v}`).join("; ")}` },
    dtype: { type: "string", choices: [...MODEL_DTYPES, "auto"], default: "auto", help: "weight type of the model file; auto: the smallest (int8, f16, f32) within 0.5 points of f32 on validation" },
    keep: { type: "string", choices: ["last", "best"], help: "save the last epoch, or the best by validation accuracy (recipe's)" },
    without: { type: "string", arg: "LIST", help: `ablation: leave out some of airbench's ingredients, comma-separated: ${Object.keys(INGREDIENTS).join(", ")} (docs/training.md, "What each ingredient is worth")` },
    tta: { type: "string", choices: VIEW_SETS, help: "test-time views the model asks every classifier to average (recipe's): none, flip, flip-translate" },
    val: { type: "int", min: 1, help: "hold out N random training examples for validation (default 1000 for CIFAR-10)" },
    "val-fraction": { type: "number", min: 0, max: 0.9, help: "hold out this fraction for validation (default 0.1 for folders)" },
    "val-per-class": { type: "int", min: 1, help: "hold out K examples of every class for validation" },
    "test-fraction": { type: "number", min: 0, max: 0.9, help: "folders: hold out this fraction of every class as a test set, never trained or validated on (recipes auto and fast: 0.2 when every class has 20 or more images; 0 for none)" },
    "train-per-class": { type: "int", min: 1, help: "folders: train on only N random images of every class (after the test and validation hold-outs), e.g. to measure what a smaller folder gives on the same test photos" },
    "labels-from": { type: "string", choices: ["folder", "prefix"], default: "folder", help: "folder: one sub-folder per class; prefix: cat.123.jpg" },
    report: { type: "string", arg: "DIR", help: "report folder (default: runs/<name>)" },
    checkpoint: { type: "string", arg: "DIR", help: "checkpoint folder (default: checkpoints/<name>)" },
    resume: { type: "string", arg: "FILE", help: "continue a run from its checkpoint (other flags are taken from it)" },
    name: { type: "string", help: "model name (default: from --out)" },
    preview: { type: "boolean", help: "mark the model as a preview (briefly trained, not for real use)" },
    json: { type: "boolean", help: "print the final metrics as JSON on stdout" },
  },
  details: [
    "Recipes (--recipe):",
    `  auto      ${AUTO_SUMMARY}`,
    ...Object.entries(RECIPES).map(([k, r]) => `  ${k.padEnd(9)} ${r.summary}`),
    "",
    "Examples:",
    "  edge-cnn train --data photos/ --out models/pets.bin          (recipe auto: every choice is printed)",
    "  edge-cnn train --data photos/ --recipe fast                   (a quick first try)",
    "  edge-cnn train --data photos/ --input-size 64                 (64x64 inputs)",
    "  edge-cnn train --data photos/ --from models/cifar10.bin --freeze-body   (fine-tune a trained model's body)",
    "  edge-cnn train --data data/cifar-10-batches-bin --recipe original --epochs 20",
    "Ctrl-C finishes the current step, saves a checkpoint and prints the command that resumes.",
  ].join("\n"),
};

/** Everything about a run that is not training state: where data comes from and where results go. */
export interface Job {
  data: DataRef;
  split: SplitSpec;
  out: string;
  report: string;
  checkpointDir: string;
  /** "auto": chosen after training (choose-dtype.ts). */
  dtype: ModelDtype | "auto";
  recipe: string;
  /** Every choice the recipe made from the data (printed, and stored in the model file). */
  choices: Choice[];
  /** Fine-tuning: the model the body came from. */
  base?: { file: string; name: string; sha256: string };
  name: string;
  preview: boolean;
  command: string;
}

interface Checkpoint {
  job: Job;
  run: RunState;
}

export function configFrom(values: FlagValues, recipe: Recipe): TrainConfig {
  const optimizer = (values.optimizer as TrainConfig["optimizer"] | undefined) ?? recipe.optimizer;
  const batch = (values.batch as number | undefined) ?? recipe.batch;
  const lr = (values.lr as number | undefined) ??
    (optimizer === recipe.optimizer ? recipe.lr(batch) : optimizer === "adam" ? 1e-3 : 1e-2);
  return {
    epochs: (values.epochs as number | undefined) ?? recipe.epochs,
    batch,
    lr,
    optimizer,
    schedule: (values.schedule as ScheduleKind | undefined) ?? recipe.schedule,
    warmupSteps: (values.warmup as number | undefined) ?? recipe.warmup,
    weightDecay: (values["weight-decay"] as number | undefined) ?? recipe.weightDecay,
    labelSmoothing: (values["label-smoothing"] as number | undefined) ?? recipe.labelSmoothing,
    augment: values.augment ? { flip: true, pad: values["augment-pad"] as number } : recipe.augment,
    seed: values.seed as number,
    keep: (values.keep as "best" | "last" | undefined) ?? recipe.keep,
    ...recipe.extra,
    ...(values.deterministic ? { deterministicParts: DETERMINISTIC_PARTS } : {}),
    ...(values["freeze-body"] ? { bodyLr: 0 } : values["body-lr"] !== undefined ? { bodyLr: values["body-lr"] as number } : {}),
  };
}

/**
 * The network a run trains: --arch's (else the recipe's) for `classes` at size x size, or, fine-tuning,
 * the base's architecture with a new head. Dropout: --dropout's, else the recipe's (the base's when
 * fine-tuning).
 */
export function specFrom(values: FlagValues, recipe: Recipe, classes: number, size: number, base: BaseModel | null): { spec: ArchSpec; choices: Choice[] } {
  const dropout = values.dropout as number | undefined;
  if (base) {
    const spec = fineTuneSpec(base, classes, size, values.arch as string | undefined);
    if (dropout !== undefined) for (const l of spec.layers) if (l.type === "dropout") l.ratio = dropout;
    return { spec, choices: values.arch ? [] : [{ setting: "arch", value: base.spec.name, why: `the base model's (--from ${basename(base.file)}), with a new ${classes}-class head` }] };
  }
  const arch = (values.arch as string | undefined) ?? recipe.arch;
  const spec = ARCHITECTURES[arch](classes, size);
  for (const l of spec.layers) if (l.type === "dropout") l.ratio = dropout ?? recipe.dropout;
  spec.input = [3, size, size];
  return { spec, choices: [] };
}

/**
 * Checks the fine-tuning flags and reads the base model (before any data is loaded): --from's, none
 * for `--from none`, or, for an image folder under `--recipe auto` without --arch, the shipped CIFAR-10
 * model (DEFAULT_BASE; `isDefault` then, so the choice is printed with its reason).
 */
export function baseFrom(values: FlagValues, command: string, kind: DataRef["kind"]): (BaseModel & { isDefault?: boolean }) | null {
  if (values["freeze-body"] && values["body-lr"] !== undefined) throw new UsageError(`edge-cnn ${command}: use --freeze-body or --body-lr, not both (--freeze-body is --body-lr 0)`);
  const from = values.from as string | undefined;
  if (from === undefined || from === "none") {
    if (values["freeze-body"] || values["body-lr"] !== undefined) throw new UsageError(`edge-cnn ${command}: --${values["freeze-body"] ? "freeze-body" : "body-lr"} needs --from BASE.bin (the model whose body to start from)`);
    if (from === undefined && kind === "folder" && values.recipe === AUTO_RECIPE && values.arch === undefined && existsSync(DEFAULT_BASE)) {
      return { ...readBaseModel(DEFAULT_BASE), isDefault: true };
    }
    return null;
  }
  return readBaseModel(from);
}

/** Copies the base's body into a fresh run's weights (and its Lookahead average); returns the choice line. */
export function startFromBase(run: RunState, base: BaseModel & { isDefault?: boolean }): Choice {
  const params = new Network(run.spec).params;
  const copied = copyBody(base, run.spec, params, run.weights);
  if (run.lookahead) copyBody(base, run.spec, params, run.lookahead);
  const body = run.config.bodyLr === undefined ? "trains at the full learning rate" : run.config.bodyLr === 0 ? "frozen (--freeze-body): only the head trains" : `trains at ${run.config.bodyLr} x the learning rate (--body-lr)`;
  return { setting: "from", value: basename(base.file), why: `${base.isDefault ? `${DEFAULT_BASE_WHY}; ` : ""}${copied} body tensors from ${base.name} (sha256 ${base.sha256.slice(0, 12)}); the body ${body}` };
}

/** True if `flag` was given on the command line (as opposed to defaulted). */
export function givenFlag(argv: string[], flag: string): boolean {
  return argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
}

/** The recipe's choices minus those a flag on the command line replaced (lr also follows --optimizer;
 *  the recipe line stays: it says what the named recipe is). */
export function keptChoices(choices: Choice[], argv: string[]): Choice[] {
  return choices.filter((c) => c.setting === "recipe" || (!givenFlag(argv, c.setting) && !(c.setting === "lr" && givenFlag(argv, "optimizer")) && !(c.setting === "body-lr" && givenFlag(argv, "freeze-body"))));
}

export async function runTrain(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(trainCommand, argv);
  if (help) { out(formatHelp(trainCommand)); return 0; }
  const progress = new Progress(process.stderr);

  // 1. The job and the run state: fresh from flags, or from a checkpoint.
  let job: Job, run: RunState | null = null, base: (BaseModel & { isDefault?: boolean }) | null = null;
  if (values.resume) {
    const ckpt = loadCheckpoint<Checkpoint>(values.resume as string);
    if (!ckpt.job || !ckpt.run) throw new CheckpointError(`${values.resume} is not a training checkpoint`);
    ({ job, run } = ckpt);
    const given = (flag: string) => givenFlag(argv, flag);
    if (given("epochs") && values.epochs !== run.config.epochs) {
      // Extending (or shortening) a run: the loss history grows with it; a schedule restarts its shape.
      if ((values.epochs as number) <= run.epoch) throw new UsageError(`edge-cnn train: this run has already done ${run.epoch} epochs; --epochs must be more than that`);
      run.config.epochs = values.epochs as number;
      const total = Math.ceil(run.split.train.length / run.config.batch) * run.config.epochs;
      const grown = new Float32Array(total);
      grown.set(run.stepLoss.subarray(0, Math.min(total, run.stepLoss.length)));
      run.stepLoss = grown;
      if (run.config.schedule !== "none") progress.log(`note: the ${run.config.schedule} schedule is recomputed for ${run.config.epochs} epochs, so the learning rate changes from here on`);
    }
    const ignored = Object.keys(trainCommand.flags).filter((f) => given(f) && !["resume", "epochs", "threads", "json"].includes(f));
    if (ignored.length) progress.log(`note: with --resume the run's settings come from the checkpoint; ignoring ${ignored.map((f) => `--${f}`).join(", ")}`);
    progress.log(`resuming ${job.name} from ${values.resume}: epoch ${run.epoch + 1}/${run.config.epochs}, step ${run.stepInEpoch}`);
  } else {
    if (!values.data) throw new UsageError("edge-cnn train: missing --data PATH (CIFAR-10 batches folder or archive, or a folder with one sub-folder per class)");
    if (values.without !== undefined) parseWithout(values.without as string); // a typo fails before any data is read
    const data = await resolveData(values.data as string, values["labels-from"] as LabelsFrom);
    const held = ["val", "val-fraction", "val-per-class"].filter((k) => values[k] !== undefined);
    if (held.length > 1) throw new UsageError(`edge-cnn train: use only one of --val, --val-fraction, --val-per-class (got ${held.map((k) => `--${k}`).join(", ")})`);
    if (data.kind === "cifar10" && values["train-per-class"]) throw new UsageError("edge-cnn train: --train-per-class is for image folders");
    if (data.kind === "cifar10" && values["test-fraction"]) throw new UsageError("edge-cnn train: --test-fraction is for image folders; CIFAR-10 has its own test batch");
    if (data.kind === "cifar10" && values["input-size"] !== 32) throw new UsageError(`edge-cnn train: --input-size is for image folders; CIFAR-10's images are 32x32 (got --input-size ${values["input-size"]})`);
    base = baseFrom(values, "train", data.kind);
    const split: SplitSpec = {
      seed: values.seed as number,
      ...(values.val ? { val: values.val as number } : {}),
      ...(values["val-fraction"] ? { valFraction: values["val-fraction"] as number } : {}),
      ...(values["val-per-class"] ? { valPerClass: values["val-per-class"] as number } : {}),
      ...(values["test-fraction"] ? { testFraction: values["test-fraction"] as number } : {}),
      ...(values["train-per-class"] ? { trainPerClass: values["train-per-class"] as number } : {}),
    };
    if (held.length === 0) {
      if (data.kind === "cifar10") split.val = 1000;
      else split.valFraction = 0.1;
    }
    const outPath = (values.out as string | undefined) ?? join("models", `${dataName(data)}.bin`);
    if (!outPath.endsWith(".bin")) throw new UsageError(`edge-cnn train: --out must be a .bin model file, got "${outPath}"`);
    const name = (values.name as string | undefined) ?? basename(outPath, ".bin");
    job = {
      data, split, out: resolve(outPath), dtype: values.dtype as ModelDtype | "auto", name, preview: !!values.preview,
      recipe: values.recipe as string, choices: [],
      ...(base ? { base: { file: resolve(base.file), name: base.name, sha256: base.sha256 } } : {}),
      report: resolve((values.report as string | undefined) ?? join("runs", name)),
      checkpointDir: resolve((values.checkpoint as string | undefined) ?? join("checkpoints", name)),
      command: ["edge-cnn", "train", ...argv].join(" "),
    };
  }

  // Output locations are checked before any work, so a typo does not cost a whole training run.
  checkWritableFile(job.out, "model file");
  checkWritableDir(job.report, "report");
  checkWritableDir(job.checkpointDir, "checkpoint");
  const existing = join(job.checkpointDir, "last.ckpt");
  if (!values.resume && existsSync(existing)) {
    // A fresh run must not overwrite an interrupted one: that would throw away its work.
    let unfinished: RunState | null = null;
    try { const c = loadCheckpoint<Checkpoint>(existing); if (c.run && c.run.epoch < c.run.config.epochs) unfinished = c.run; } catch { /* unreadable: nothing to keep */ }
    if (unfinished) {
      throw new CheckpointError(`${existing} holds an unfinished run (${unfinished.epoch} of ${unfinished.config.epochs} epochs done). ` +
        `Resume it with: npx edge-cnn train --resume ${existing}\nor start a separate run with another --name or --checkpoint DIR (or delete that file).`);
    }
  }

  // 2. Data.
  const size = values["input-size"] as number;
  const preprocess = run?.preprocess ?? defaultPreprocess([size, size]);
  const pool = await loadPool(job.data, progress, preprocess);
  if (!run && job.data.kind === "folder" && (job.recipe === "auto" || job.recipe === "fast") && values["test-fraction"] === undefined) {
    // The default recipes hold out a test split when the folder is big enough (a choice, printed).
    const counts = pool.classes.map(() => 0);
    for (let i = 0; i < pool.count; i++) counts[pool.labels[i]]++;
    const test = chooseTestFraction(counts);
    if (test.value) job.split.testFraction = test.value as number;
    job.choices.push(test);
  }
  const splits = makeSplits(pool, job.split);
  const print = fingerprint(pool);
  if (run && run.dataFingerprint !== print) {
    throw new CheckpointError(`the data in ${job.data.path} has changed since this run started (fingerprint ${print}, checkpoint ${run.dataFingerprint}); resuming would train on a different split. Start a new run instead.`);
  }
  if (!run) {
    const facts = { kind: job.data.kind, train: splits.train.length, val: splits.val.length, classes: pool.classes.length, size, fineTune: base !== null };
    const { recipe, choices } = chooseRecipe(job.recipe, facts, { batch: values.batch as number | undefined, epochs: values.epochs as number | undefined });
    const { spec, choices: archChoices } = specFrom(values, recipe, pool.classes.length, size, base);
    preprocess.views = (values.tta as ViewSet | undefined) ?? recipe.views;
    const config = configFrom(values, recipe);
    if (values.without !== undefined) {
      const left = removeIngredients(parseWithout(values.without as string), config, spec);
      archChoices.push({ setting: "without", value: values.without as string, why: left.join("; ") });
    }
    run = newRunState({ config, spec, labels: pool.classes, preprocess, split: { train: splits.train, val: splits.val }, dataFingerprint: print }, pool);
    job.choices.push(...keptChoices(choices, argv), ...archChoices);
    if (base) job.choices.push(startFromBase(run, base));
    for (const c of job.choices) progress.log(formatChoice(c));
  }
  const state = run;
  // 3. Train, with Ctrl-C / SIGTERM finishing the step and saving a checkpoint (handlers first, so a
  //    signal right after the summary line below is already handled).
  mkdirSync(job.checkpointDir, { recursive: true });
  const ckptPath = join(job.checkpointDir, "last.ckpt");
  let stop = false;
  const onSignal = (sig: string) => {
    if (stop) { progress.log(`${sig} again: exiting now; the last checkpoint is ${ckptPath}`); process.exit(130); }
    stop = true;
    progress.log(`${sig}: finishing this step and saving a checkpoint (press Ctrl-C again to quit at once) ...`);
  };
  const sigint = () => onSignal("SIGINT"), sigterm = () => onSignal("SIGTERM");
  process.on("SIGINT", sigint);
  process.on("SIGTERM", sigterm);
  const threads = values.threads as number;
  progress.log(
    `${job.name}: ${pool.classes.length} classes, ${state.split.train.length} training / ${state.split.val.length} validation images` +
    `${splits.test.length ? ` / ${splits.test.length} test images held out` : ""}; ` +
    `${state.config.epochs} epoch${state.config.epochs === 1 ? "" : "s"} of ${stepsPerEpoch(state)} steps (batch ${state.config.batch}, ${state.config.optimizer} lr ${state.config.lr}${state.config.augment.flip ? ", augmented" : ""}, ` +
    `${bestKernelsName()} kernels, ${threads} thread${threads === 1 ? "" : "s"}${state.config.deterministicParts ? ", deterministic" : ""})`,
  );

  let reportWrites = Promise.resolve();
  const started = performance.now();
  const stepsTotal = stepsPerEpoch(state) * state.config.epochs;
  const stepsAtStart = state.step;
  let result;
  try {
    result = await runTraining(state, pool, {
      onStep: (s) => {
        const done = state.step - stepsAtStart;
        const perStep = (performance.now() - started) / 1000 / Math.max(1, done);
        progress.update(
          `epoch ${s.epoch}/${s.epochs}  step ${s.stepInEpoch}/${s.stepsPerEpoch}  loss ${s.loss.toFixed(4)}  ` +
          `acc ${(100 * s.accuracy).toFixed(1)}%  ${Math.round(s.imagesPerSecond)} img/s  ETA ${formatDuration(perStep * (stepsTotal - state.step))}`,
        );
      },
      onEpoch: (e) => {
        progress.log(
          `epoch ${e.epoch}/${state.config.epochs}: train loss ${e.trainLoss.toFixed(4)} acc ${(100 * e.trainAccuracy).toFixed(2)}%` +
          (e.valAccuracy !== undefined ? `, val loss ${e.valLoss!.toFixed(4)} acc ${(100 * e.valAccuracy).toFixed(2)}%` : "") +
          ` (${formatDuration(e.seconds)})`,
        );
      },
      checkpoint: (s) => {
        saveCheckpoint(ckptPath, { job, run: s } satisfies Checkpoint);
        // The log and curves so far, one write at a time (never fatal: the checkpoint is what matters).
        reportWrites = reportWrites.then(() => writeRunReport(job.report, job, s, null)).then(() => {}, () => {});
      },
      shouldStop: () => stop,
    }, { threads });
  } catch (e) {
    if (e instanceof DivergenceError) {
      progress.log("");
      throw new DivergenceError(`${e.message}\nThe last good checkpoint is ${ckptPath}${existsSync(ckptPath) ? "" : " (none yet: it diverged in the first epoch)"}; no model file was written.`);
    }
    throw e;
  } finally {
    process.off("SIGINT", sigint);
    process.off("SIGTERM", sigterm);
  }
  if (result.stopped) {
    progress.log(`stopped after ${state.step} steps; checkpoint saved to ${ckptPath}`);
    progress.log(`resume with: npx edge-cnn train --resume ${ckptPath}`);
    return 130;
  }

  // 4. Save the model (in the requested dtype, or the smallest that keeps f32's validation accuracy),
  //    then measure what was saved.
  const net = result.net;
  const test = splits.test.length ? subset(pool, splits.test) : await loadTestSet(job.data);
  const val = state.split.val.length ? subset(pool, state.split.val) : null;
  const meta: ModelMeta = {
    name: job.name, version: "1.0.0", labels: pool.classes, preprocess,
    metrics: {}, provenance: provenance(job, state, threads),
    ...(job.preview ? { preview: true } : {}),
  };
  let dtypeAccuracy: Record<string, number> = {};
  if (job.dtype === "auto") {
    const chosen = chooseDtype(net, meta, val);
    job.dtype = chosen.dtype;
    job.choices.push(chosen.choice);
    progress.log(formatChoice(chosen.choice));
    dtypeAccuracy = Object.fromEntries(Object.entries(chosen.accuracy).map(([t, a]) => [`val_accuracy_${t}`, round(a!)]));
    meta.provenance = provenance(job, state, threads);
  }
  let bytes = encodeModel(net, meta, job.dtype);
  const saved = loadNetwork(bytes, { kernels: loadBestKernels() }).net; // what users will run: dequantized weights
  const views = defaultViews(preprocess); // as the Worker will classify
  const valEval = val ? evaluateDataset(saved, val, preprocess, 100, views) : null;
  const testEval = test ? evaluateDataset(saved, test, preprocess, 100, views) : null;
  meta.metrics = { ...metricsOf(state, valEval, testEval, job), ...dtypeAccuracy };
  bytes = encodeModel(net, meta, job.dtype);
  writeFileAtomic(job.out, bytes);
  await reportWrites; // an interim report finishing later would remove the final pictures
  const reportData = await writeRunReport(job.report, job, state, { val, valEval, test, testEval });

  const seconds = state.seconds;
  progress.log(`wrote ${job.out} (${job.dtype}, ${(bytes.length / 1024).toFixed(0)} KiB) after ${formatDuration(seconds)}`);
  if (valEval) progress.log(`validation accuracy ${(100 * valEval.accuracy).toFixed(2)}% (${valEval.count} images${state.config.keep === "best" ? `, best epoch ${state.best?.epoch}` : ""})`);
  if (testEval) progress.log(`test accuracy ${(100 * testEval.accuracy).toFixed(2)}% (${testEval.count} images never used in training)`);
  progress.log(`report: ${join(job.report, "index.html")}`);
  progress.log(`try it: npx edge-cnn serve --model ${job.out}   (local Worker on http://127.0.0.1:8787)`);
  progress.log(`ship it: npx edge-cnn deploy --model ${job.out}   (or npx edge-cnn publish --model ${job.out}: live without a redeploy)`);
  if (values.json) out(JSON.stringify({ model: job.out, bytes: bytes.length, metrics: meta.metrics, report: reportData }, null, 2));
  return 0;
}

function metricsOf(state: RunState, valEval: Evaluation | null, testEval: Evaluation | null, job: Job): Record<string, number> {
  const last = state.epochs[state.epochs.length - 1];
  return {
    epochs: state.epochs.length,
    train_accuracy: round(last.trainAccuracy),
    train_loss: round(last.trainLoss),
    ...(valEval ? { val_accuracy: round(valEval.accuracy), val_loss: round(valEval.loss), val_count: valEval.count } : {}),
    ...(testEval ? { test_accuracy: round(testEval.accuracy), test_loss: round(testEval.loss), test_count: testEval.count } : {}),
    train_seconds: Math.round(state.seconds),
    images_per_second: Math.round((state.step * state.config.batch) / Math.max(1e-9, state.seconds)),
  };
}

const round = (v: number): number => Math.round(v * 1e5) / 1e5;

function provenance(job: Job, state: RunState, threads: number): Record<string, string | number | boolean | null> {
  let commit: string | null = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch { /* not a git checkout */ }
  return {
    created_at: new Date().toISOString(),
    command: job.command,
    dataset: job.data.kind === "cifar10" ? "CIFAR-10" : basename(job.data.path),
    data_fingerprint: state.dataFingerprint,
    split: JSON.stringify(job.split),
    recipe: job.recipe ?? null,
    config: JSON.stringify(state.config),
    // One "setting: value (why)" per choice the recipe made from the data, as printed.
    choices: JSON.stringify((job.choices ?? []).map((c) => `${c.setting} ${c.value} (${c.why})`)),
    ...(job.base ? { base_model: job.base.name, base_sha256: job.base.sha256, base_file: basename(job.base.file) } : {}),
    trainer: "edge-cnn 0.1.0",
    kernels: bestKernelsName(),
    threads,
    git_commit: commit,
    host: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "?"}, Node ${process.version}`,
  };
}
