// He initialisation: weights ~ N(0, 1) * sqrt(2 / fan_in), biases zero, drawn from the seeded Rng in
// parameter order, so the same seed gives bit-identical weights on every runtime.

import type { Param } from "./layers/layer.ts";
import { Rng } from "./rng.ts";
import type { Network } from "./network.ts";

export function heInit(params: Param[], seed: number): void {
  const rng = new Rng(seed);
  for (const p of params) {
    if (p.shape.length === 1) { p.data.fill(0); continue; } // bias
    const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1); // [out, in, kh, kw] or [out, in]
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * std;
  }
}

/**
 * Initialises a network's parameters by its spec: layers without an `init` field as heInit does (so
 * seed-cnn's weights stay bit-identical), "dirac" convolutions and "uniform" affine layers as PyTorch's
 * defaults do (uniform in +-1/sqrt(fan_in)) with, for dirac, the first min(F, C) filters the identity;
 * "whiten" filters start as the identity too until the trainer computes them (whitening.ts).
 * Batchnorm statistics start at mean 0, variance 1; biases at 0.
 */
export function initNetwork(net: Network, seed: number): void {
  if (!net.spec.layers.some((l) => "init" in l && l.init !== undefined)) { heInit(net.params, seed); return; }
  const rng = new Rng(seed);
  const specs = net.spec.layers;
  net.layers.forEach((layer, i) => {
    const spec = specs[i];
    for (const p of layer.params) {
      if (p.name.endsWith(".var")) { p.data.fill(1); continue; }
      if (p.shape.length === 1) { p.data.fill(0); continue; }
      const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1);
      const init = (spec as { init?: string }).init ?? "he";
      if (init === "he") {
        const std = Math.sqrt(2 / fanIn);
        for (let k = 0; k < p.data.length; k++) p.data[k] = rng.normal() * std;
        continue;
      }
      const bound = 1 / Math.sqrt(fanIn);
      for (let k = 0; k < p.data.length; k++) p.data[k] = (2 * rng.uniform() - 1) * bound;
      if ((init === "dirac" || init === "whiten") && p.shape.length === 4) diracInit(p);
    }
  });
}

/** Filter f < min(F, C) passes input channel f through unchanged (centre tap 1, the rest 0). */
function diracInit(p: Param): void {
  const [F, C, kh, kw] = p.shape;
  for (let f = 0; f < Math.min(F, C); f++) {
    p.data.fill(0, f * C * kh * kw, (f + 1) * C * kh * kw);
    p.data[((f * C + f) * kh + (kh >> 1)) * kw + (kw >> 1)] = 1;
  }
}
