// The numbers behind the report: confusion matrix, per-class metrics and mean/std on small known
// examples, with exact expected values.

import { describe, expect, it } from "vitest";
import { confusionAccuracy, confusionMatrix, meanStd, perClassMetrics } from "../../../trainer/report/metrics.ts";

describe("confusionMatrix", () => {
  it("counts true label rows against predicted columns", () => {
    const m = confusionMatrix([0, 0, 0, 1, 1, 2], [0, 1, 0, 1, 2, 2], ["a", "b", "c"]);
    expect(m).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    expect(confusionAccuracy(m)).toBeCloseTo(4 / 6, 15);
  });

  it("accepts a class count and typed arrays, and keeps empty classes", () => {
    const m = confusionMatrix(new Uint8Array([1, 1]), new Uint8Array([1, 0]), 3);
    expect(m).toEqual([[0, 0, 0], [1, 1, 0], [0, 0, 0]]);
  });

  it("names the bad input", () => {
    expect(() => confusionMatrix([0, 3], [0, 0], 3)).toThrow(/label 3 at index 1 is not a class index 0..2/);
    expect(() => confusionMatrix([0], [-1], 3)).toThrow(/prediction -1 at index 0/);
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/2 labels but 1 predictions/);
    expect(() => confusionMatrix([], [], 0)).toThrow(/at least 1 class/);
  });
});

describe("perClassMetrics", () => {
  it("gives precision, recall (= accuracy), F1 and support", () => {
    const m = [
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ];
    const pc = perClassMetrics(m, ["a", "b", "c"]);
    expect(pc.map((c) => c.label)).toEqual(["a", "b", "c"]);
    expect(pc.map((c) => c.support)).toEqual([3, 2, 1]);
    expect(pc[0].precision).toBe(1);
    expect(pc[0].recall).toBeCloseTo(2 / 3, 15);
    expect(pc[0].f1).toBeCloseTo(0.8, 15);
    expect(pc[1]).toMatchObject({ precision: 0.5, recall: 0.5, accuracy: 0.5, f1: 0.5 });
    expect(pc[2].precision).toBe(0.5);
    expect(pc[2].recall).toBe(1);
    expect(pc[2].f1).toBeCloseTo(2 / 3, 15);
    for (const c of pc) expect(c.accuracy).toBe(c.recall);
  });

  it("uses 0, not NaN, for a class never predicted or never present", () => {
    const pc = perClassMetrics([[3, 0], [1, 0]], ["x", "y"]);
    expect(pc[1]).toEqual({ label: "y", precision: 0, recall: 0, accuracy: 0, f1: 0, support: 1 });
    const empty = perClassMetrics([[1, 0], [0, 0]], ["x", "y"]);
    expect(empty[1]).toEqual({ label: "y", precision: 0, recall: 0, accuracy: 0, f1: 0, support: 0 });
    expect(empty[0]).toMatchObject({ precision: 1, recall: 1, support: 1 });
  });

  it("rejects a matrix that does not match the labels", () => {
    expect(() => perClassMetrics([[1, 0], [0, 1]], ["a"])).toThrow(/1 labels for a 2x2/);
    expect(() => perClassMetrics([[1, 0], [0]], ["a", "b"])).toThrow(/row 1 has 1 entries, expected 2/);
  });
});

describe("meanStd", () => {
  it("is the mean and the population standard deviation", () => {
    expect(meanStd([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ mean: 5, std: 2 });
    expect(meanStd([0.5])).toEqual({ mean: 0.5, std: 0 });
    const { mean, std } = meanStd(new Float64Array([0.78, 0.74, 0.81, 0.77, 0.69]));
    expect(mean).toBeCloseTo(0.758, 12);
    expect(std).toBeCloseTo(Math.sqrt(0.00828 / 5), 12);
  });

  it("is NaN for no values", () => {
    const { mean, std } = meanStd([]);
    expect(mean).toBeNaN();
    expect(std).toBeNaN();
  });
});
