// A tiny training problem shared by the training-loop tests: 8x8 images of 3 classes (mostly red,
// green or blue, with noise) and a small network with dropout, so runs take milliseconds.

import { Rng, type ArchSpec } from "../../shared/index.ts";
import type { Dataset } from "../../trainer/dataset/dataset.ts";

export const TINY_SPEC: ArchSpec = { name: "tiny", input: [3, 8, 8], layers: [
  { type: "conv", filters: 4, size: 3, pad: 1 }, { type: "relu" }, { type: "pool", size: 2 },
  { type: "dropout", ratio: 0.3 }, { type: "affine", units: 3 },
] };

export function syntheticDataset(count: number, seed = 1): Dataset {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * 192), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) images[i * 192 + p * 3 + c] = (c === labels[i] ? 150 : 40) + rng.int(100);
  }
  return { classes: ["red", "green", "blue"], count, size: [8, 8], images, labels };
}
