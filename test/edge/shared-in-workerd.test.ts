// The "runs unchanged everywhere" promise, tested inside workerd: shared/ builds seed-cnn, initialises
// it from a seed and runs forward and backward with exactly the bits Node produces.
import { describe, expect, it } from "vitest";
import { computeCrossRuntime } from "../fixtures/cross-runtime.ts";
import reference from "../fixtures/cross-runtime-reference.json";

describe("shared/ inside workerd", () => {
  it("is really running in workerd", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
  });

  it("gives bit-identical He init, logits, loss and gradients to Node for the same seed", () => {
    expect(computeCrossRuntime()).toEqual(reference);
  });
});
