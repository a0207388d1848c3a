// Seeded splits: the same seed gives the same split, another seed another; stratified splits hold out
// the asked number per class; a class too small for the request is an error naming it.

import { describe, expect, it } from "vitest";
import { subset, type Dataset } from "../../../trainer/dataset/dataset.ts";
import { makeSplits } from "../../../trainer/commands/data-source.ts";
import { splitPerClassFraction, splitValCount, splitValFraction, splitValPerClass, type Split } from "../../../trainer/dataset/splits.ts";

/** A dataset with the given number of examples per class, interleaved; example i's pixels all equal i % 256. */
function dataset(perClass: number[]): Dataset {
  const labels: number[] = [];
  for (let round = 0; labels.length < perClass.reduce((a, b) => a + b, 0); round++) {
    perClass.forEach((n, c) => { if (round < n) labels.push(c); });
  }
  const count = labels.length, images = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) images.fill(i % 256, i * 3, i * 3 + 3);
  return { classes: perClass.map((_, c) => `class${c}`), count, size: [1, 1], images, labels: Uint8Array.from(labels) };
}

function expectPartition(s: Split, count: number): void {
  const all = [...s.train, ...s.val].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: count }, (_, i) => i)); // disjoint and complete
  expect([...s.train]).toEqual([...s.train].sort((a, b) => a - b));
}

function perClass(ds: Dataset, idx: Uint32Array): number[] {
  const n = ds.classes.map(() => 0);
  for (const i of idx) n[ds.labels[i]]++;
  return n;
}

const ds = dataset([20, 12, 8]);

describe("splitValCount / splitValFraction", () => {
  it("holds out N examples, the same ones for the same seed, others for another seed", () => {
    const a = splitValCount(ds, 10, 7), b = splitValCount(ds, 10, 7), c = splitValCount(ds, 10, 8);
    expectPartition(a, ds.count);
    expect(a.val.length).toBe(10);
    expect(a).toEqual(b);
    expect([...c.val]).not.toEqual([...a.val]);
  });

  it("--val-fraction rounds F * count", () => {
    const s = splitValFraction(ds, 0.25, 1);
    expect(s.val.length).toBe(10);
    expectPartition(s, ds.count);
    expect(splitValFraction(ds, 0.001, 1).val.length).toBe(1); // at least one
  });

  it("materialises with subset", () => {
    const s = splitValCount(ds, 5, 3);
    const val = subset(ds, s.val);
    expect(val.count).toBe(5);
    expect(Array.from(val.labels)).toEqual([...s.val].map((i) => ds.labels[i]));
    expect(val.images[0]).toBe(s.val[0] % 256);
  });

  it("refuses to hold out everything, and bad numbers", () => {
    expect(() => splitValCount(ds, 40, 1)).toThrow("--val 40 holds out every example: the dataset has only 40 (needs at least 41)");
    expect(() => splitValCount(ds, 0, 1)).toThrow("--val must be a whole number of examples >= 1, got 0");
    expect(() => splitValCount(ds, 2.5, 1)).toThrow("--val must be a whole number of examples >= 1, got 2.5");
    expect(() => splitValFraction(ds, 1, 1)).toThrow("--val-fraction must be between 0 and 1 (exclusive), got 1");
    expect(() => splitValFraction(ds, Number.NaN, 1)).toThrow("--val-fraction must be between 0 and 1 (exclusive), got NaN");
  });
});

describe("splitValPerClass", () => {
  it("holds out K of every class, deterministically", () => {
    const a = splitValPerClass(ds, 3, 42);
    expectPartition(a, ds.count);
    expect(perClass(ds, a.val)).toEqual([3, 3, 3]);
    expect(perClass(ds, a.train)).toEqual([17, 9, 5]);
    expect(splitValPerClass(ds, 3, 42)).toEqual(a);
    expect([...splitValPerClass(ds, 3, 43).val]).not.toEqual([...a.val]);
  });

  it("a class with too few examples is named with what it has and needs", () => {
    expect(() => splitValPerClass(ds, 8, 1)).toThrow('class "class2" has 8 examples; --val-per-class 8 needs at least 9 (8 held out, 1 or more to train)');
    expect(() => splitValPerClass(dataset([5, 1]), 1, 1)).toThrow('class "class1" has 1 example; --val-per-class 1 needs at least 2 (1 held out, 1 or more to train)');
  });
});

describe("splitPerClassFraction (a per-class test hold-out)", () => {
  it("holds out 20 % of every class with a fixed seed", () => {
    const a = splitPerClassFraction(ds, 0.2, 2024);
    expectPartition(a, ds.count);
    expect(perClass(ds, a.val)).toEqual([4, 2, 2]); // round(0.2 * 20, 12, 8) = 4, 2, 2
    expect(splitPerClassFraction(ds, 0.2, 2024)).toEqual(a);
    expect([...splitPerClassFraction(ds, 0.2, 2025).val]).not.toEqual([...a.val]);
  });

  it("a class too small to hold out any example is named", () => {
    expect(() => splitPerClassFraction(dataset([10, 2]), 0.2, 1)).toThrow(
      'class "class1" has 2 examples; holding out 20 % per class needs at least 3 (1 or more held out, 1 or more to train)');
    expect(() => splitPerClassFraction(dataset([10, 1]), 0.5, 1)).toThrow(
      'class "class1" has 1 example; holding out 50 % per class needs at least 2 (1 or more held out, 1 or more to train)');
    expect(() => splitPerClassFraction(ds, 0, 1)).toThrow("the per-class hold-out fraction must be between 0 and 1 (exclusive), got 0");
  });
});

describe("--train-per-class (makeSplits with trainPerClass)", () => {
  it("keeps N training examples of every class; test and validation are the same photos as without it", () => {
    const ds = dataset([40, 25, 30]);
    const spec = { seed: 3, testFraction: 0.2, valPerClass: 2 };
    const full = makeSplits(ds, spec), small = makeSplits(ds, { ...spec, trainPerClass: 5 });
    expect([...small.test]).toEqual([...full.test]);
    expect([...small.val]).toEqual([...full.val]);
    expect(perClass(ds, Uint32Array.from(small.train))).toEqual([5, 5, 5]);
    for (const i of small.train) expect(full.train).toContain(i);
    expect([...makeSplits(ds, { ...spec, trainPerClass: 5 }).train]).toEqual([...small.train]);
  });
  it("a class with fewer training examples than asked is named", () => {
    // class1: 25 - 5 test - 2 val = 18 left to train.
    expect(() => makeSplits(dataset([40, 25, 30]), { seed: 3, testFraction: 0.2, valPerClass: 2, trainPerClass: 19 }))
      .toThrow('class "class1" has only 18 training examples after the hold-outs; --train-per-class 19 needs at least 19');
  });
});
