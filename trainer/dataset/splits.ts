// Deterministic train/validation (or train/test) splits under a seed: the same seed and data give the
// same split on every machine (shared Rng), a different seed a different one. Splits return sorted
// index arrays; materialise them with `subset` from dataset.ts.

import { Rng } from "../../shared/rng.ts";
import type { Dataset } from "./dataset.ts";
import { DatasetError } from "./errors.ts";

export interface Split {
  train: Uint32Array;
  /** The held-out examples (validation or test). */
  val: Uint32Array;
}

type Labelled = Pick<Dataset, "classes" | "count" | "labels">;

/** `--val N`: N random examples held out, whatever their class. */
export function splitValCount(ds: Labelled, n: number, seed: number): Split {
  if (!Number.isInteger(n) || n < 1) throw new DatasetError(`--val must be a whole number of examples >= 1, got ${n}`);
  if (n >= ds.count) throw new DatasetError(`--val ${n} holds out every example: the dataset has only ${ds.count} (needs at least ${n + 1})`);
  const order = range(ds.count);
  new Rng(seed).shuffle(order);
  return finish(order.slice(n), order.slice(0, n));
}

/** `--val-fraction F`: round(F * count) random examples held out (at least one). */
export function splitValFraction(ds: Labelled, fraction: number, seed: number): Split {
  checkFraction(fraction, "--val-fraction");
  return splitValCount(ds, Math.max(1, Math.round(fraction * ds.count)), seed);
}

/** `--val-per-class K`: K random examples of every class held out (stratified); each class keeps at least one to train. */
export function splitValPerClass(ds: Labelled, k: number, seed: number): Split {
  if (!Number.isInteger(k) || k < 1) throw new DatasetError(`--val-per-class must be a whole number >= 1, got ${k}`);
  const byClass = indicesByClass(ds);
  byClass.forEach((idx, c) => {
    if (idx.length < k + 1) {
      throw new DatasetError(`class "${ds.classes[c]}" has ${idx.length} example${idx.length === 1 ? "" : "s"}; --val-per-class ${k} needs at least ${k + 1} (${k} held out, 1 or more to train)`);
    }
  });
  return stratified(byClass, () => k, seed);
}

/** Holds out round(F * n) examples of every class (stratified), e.g. 0.2 for a 20 % per-class test set. */
export function splitPerClassFraction(ds: Labelled, fraction: number, seed: number): Split {
  checkFraction(fraction, "the per-class hold-out fraction");
  const byClass = indicesByClass(ds);
  byClass.forEach((idx, c) => {
    const held = Math.round(fraction * idx.length);
    if (held < 1 || held >= idx.length) {
      const need = minimumForFraction(fraction);
      throw new DatasetError(`class "${ds.classes[c]}" has ${idx.length} example${idx.length === 1 ? "" : "s"}; holding out ${pct(fraction)} per class needs at least ${need} (1 or more held out, 1 or more to train)`);
    }
  });
  return stratified(byClass, (n) => Math.round(fraction * n), seed);
}

/**
 * `--train-per-class N`: N random examples of every class kept (the rest dropped), for measuring what a
 * smaller folder would give against the same test and validation photos.
 */
export function keepPerClass(ds: Labelled, n: number, seed: number): Uint32Array {
  if (!Number.isInteger(n) || n < 1) throw new DatasetError(`--train-per-class must be a whole number >= 1, got ${n}`);
  const byClass = indicesByClass(ds);
  byClass.forEach((idx, c) => {
    if (idx.length < n) throw new DatasetError(`class "${ds.classes[c]}" has only ${idx.length} training example${idx.length === 1 ? "" : "s"} after the hold-outs; --train-per-class ${n} needs at least ${n}`);
  });
  const rng = new Rng(seed);
  const kept: number[] = [];
  for (const idx of byClass) { rng.shuffle(idx); kept.push(...idx.slice(0, n)); }
  return Uint32Array.from(kept).sort();
}

/** One Rng walks the classes in label order, so the whole split depends only on the seed. */
function stratified(byClass: number[][], held: (n: number) => number, seed: number): Split {
  const rng = new Rng(seed);
  const train: number[] = [], val: number[] = [];
  for (const idx of byClass) {
    rng.shuffle(idx);
    const h = held(idx.length);
    val.push(...idx.slice(0, h));
    train.push(...idx.slice(h));
  }
  return finish(train, val);
}

function indicesByClass(ds: Labelled): number[][] {
  const byClass: number[][] = ds.classes.map(() => []);
  for (let i = 0; i < ds.count; i++) {
    const l = ds.labels[i];
    if (l >= ds.classes.length) throw new DatasetError(`example ${i} has label ${l}, but there are only ${ds.classes.length} classes`);
    byClass[l].push(i);
  }
  return byClass;
}

/** Smallest class size n for which round(f * n) is at least 1 and leaves at least 1. */
function minimumForFraction(f: number): number {
  let n = Math.max(2, Math.ceil(0.5 / f) - 1); // below this, f * n rounds to 0
  while (Math.round(f * n) < 1 || Math.round(f * n) >= n) n++;
  return n;
}

function checkFraction(f: number, what: string): void {
  if (!(f > 0 && f < 1)) throw new DatasetError(`${what} must be between 0 and 1 (exclusive), got ${f}`);
}

function finish(train: number[], val: number[]): Split {
  return { train: Uint32Array.from(train).sort(), val: Uint32Array.from(val).sort() };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function pct(f: number): string {
  return `${+(f * 100).toFixed(2)} %`;
}
