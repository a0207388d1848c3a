// Where the CLI's --data points: CIFAR-10 (batches folder or archive) or a folder of photos. Loads the
// training pool and, for CIFAR-10, the separate test batch; reproduces the validation split from its
// recorded parameters, so `evaluate --split val` sees exactly the examples training held out.

import { basename, resolve } from "node:path";
import { crc32 } from "../../shared/crc32.ts";
import { defaultPreprocess, type PreprocessSpec } from "../../shared/preprocess.ts";
import { isCifar10, loadCifar10 } from "../dataset/cifar10.ts";
import type { Dataset } from "../dataset/dataset.ts";
import { DatasetError } from "../dataset/errors.ts";
import { formatSkipped, loadImageFolder } from "../dataset/image-folder.ts";
import { keepPerClass, splitPerClassFraction, splitValCount, splitValFraction, splitValPerClass, type Split } from "../dataset/splits.ts";
import type { Progress } from "../cli/progress.ts";

export type LabelsFrom = "folder" | "prefix";

export interface DataRef {
  /** Absolute path of --data. */
  path: string;
  kind: "cifar10" | "folder";
  labelsFrom: LabelsFrom;
}

/** How the validation (and, for folders, test) examples are held out; stored in checkpoints and model files. */
export interface SplitSpec {
  seed: number;
  val?: number;
  valFraction?: number;
  valPerClass?: number;
  /** Folders only: a per-class test hold-out taken before the validation split. */
  testFraction?: number;
  /** Only this many training examples of every class (after the hold-outs); the rest are not used. */
  trainPerClass?: number;
}

export async function resolveData(path: string, labelsFrom: LabelsFrom = "folder"): Promise<DataRef> {
  const abs = resolve(path);
  return { path: abs, kind: (await isCifar10(abs)) ? "cifar10" : "folder", labelsFrom };
}

export function dataName(ref: DataRef): string {
  return ref.kind === "cifar10" ? "cifar10" : basename(ref.path).replace(/[^A-Za-z0-9._-]+/g, "-") || "model";
}

/** The training pool: CIFAR-10's 50,000 training images, or every usable photo of the folder. */
export async function loadPool(ref: DataRef, progress: Progress, preprocess: PreprocessSpec = defaultPreprocess()): Promise<Dataset> {
  if (ref.kind === "cifar10") {
    progress.update(`reading CIFAR-10 from ${ref.path} ...`, true);
    return loadCifar10(ref.path, "train");
  }
  const result = await loadImageFolder(ref.path, {
    preprocess, labelsFrom: ref.labelsFrom,
    onProgress: (done, total) => progress.update(`decoding ${ref.path}: ${done}/${total} images`, done === total),
  });
  progress.endLine();
  for (const line of formatSkipped(result.skipped)) progress.log(`warning: ${line}`);
  if (result.cache.hit) progress.log(`${result.dataset.count} images from the decode cache (${result.cache.file})`);
  if (result.cache.warning) progress.log(`warning: ${result.cache.warning}`);
  if (result.dataset.count === 0) throw new DatasetError(`no usable images in ${ref.path}`);
  if (result.dataset.classes.length < 2) {
    throw new DatasetError(`${ref.path} has only one class (${result.dataset.classes.join("")}); a classifier needs at least 2: one sub-folder per class${ref.labelsFrom === "prefix" ? " (or file-name prefixes)" : ""}`);
  }
  return result.dataset;
}

/** The CIFAR-10 test batch (only for evaluate and final reports, never for choices during training). */
export async function loadTestSet(ref: DataRef): Promise<Dataset | null> {
  return ref.kind === "cifar10" ? loadCifar10(ref.path, "test") : null;
}

/**
 * Splits the pool into train / val (and, with testFraction, a per-class test hold-out that neither
 * training nor validation ever sees). Indices refer to the pool.
 */
export function makeSplits(pool: Dataset, spec: SplitSpec): { train: Int32Array; val: Int32Array; test: Int32Array } {
  let rest = Int32Array.from({ length: pool.count }, (_, i) => i);
  let test = new Int32Array(0);
  if (spec.testFraction) {
    const t = splitPerClassFraction(pool, spec.testFraction, spec.seed + 1000);
    test = Int32Array.from(t.val);
    rest = Int32Array.from(t.train);
  }
  const view = { classes: pool.classes, count: rest.length, labels: Uint8Array.from(rest, (i) => pool.labels[i]) };
  let s: Split | null = null;
  if (spec.valPerClass) s = splitValPerClass(view, spec.valPerClass, spec.seed);
  else if (spec.valFraction) s = splitValFraction(view, spec.valFraction, spec.seed);
  else if (spec.val) s = splitValCount(view, spec.val, spec.seed);
  let train = s ? Int32Array.from(s.train, (k) => rest[k]) : rest;
  const val = s ? Int32Array.from(s.val, (k) => rest[k]) : new Int32Array(0);
  if (spec.trainPerClass) {
    const pick = train;
    const kept = keepPerClass({ classes: pool.classes, count: pick.length, labels: Uint8Array.from(pick, (i) => pool.labels[i]) }, spec.trainPerClass, spec.seed + 2000);
    train = Int32Array.from(kept, (k) => pick[k]);
  }
  return { train, val, test };
}

/** A cheap identity of a dataset's contents (labels and a sample of pixels), to refuse resuming on other data. */
export function fingerprint(ds: Dataset): string {
  let h = crc32(new TextEncoder().encode(JSON.stringify([ds.classes, ds.count, ds.size])));
  h = crc32(ds.labels, h);
  const step = 61, sample = new Uint8Array(Math.ceil(ds.images.length / step));
  for (let i = 0, k = 0; i < ds.images.length; i += step, k++) sample[k] = ds.images[i];
  return crc32(sample, h).toString(16).padStart(8, "0");
}
