// He initialisation: weights ~ N(0, 1) * sqrt(2 / fan_in), biases zero, drawn from the seeded Rng in
// parameter order, so the same seed gives bit-identical weights on every runtime.

import type { Param } from "./layers/layer.ts";
import { Rng } from "./rng.ts";

export function heInit(params: Param[], seed: number): void {
  const rng = new Rng(seed);
  for (const p of params) {
    if (p.shape.length === 1) { p.data.fill(0); continue; } // bias
    const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1); // [out, in, kh, kw] or [out, in]
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * std;
  }
}
