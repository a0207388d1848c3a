import { expect, it } from "vitest";
import { computeCrossRuntime } from "../fixtures/cross-runtime.ts";
import reference from "../fixtures/cross-runtime-reference.json";

it("Node reproduces the recorded cross-runtime reference (the same one workerd and Chromium must match)", () => {
  expect(computeCrossRuntime()).toEqual(reference);
});
