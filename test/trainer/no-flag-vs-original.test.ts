// The no-flag promise: on a folder of 3 classes x 40 photos whose classes differ in shape, not in colour
// (stripes, rings, checks, each drawn in random colours, at a random scale and phase, under heavy noise,
// saved as JPEG), `train --data DIR` with no other flags ends at least as high on the held-out test
// photos as the original design's recipe does on the same split. Both runs are real, so this takes
// about a minute.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../shared/rng.ts";
import { removeTempDirs, tempDir } from "./dataset/helpers.ts";
import { cli } from "./cli-helpers.ts";

const SIDE = 48, PER_CLASS = 40;

/** Intensity in [0, 1] of class `kind` at pixel (x, y): the shape is what tells the classes apart. */
function pattern(kind: string, x: number, y: number, p: { period: number; phase: number; cx: number; cy: number }): number {
  switch (kind) {
    case "stripes": return Math.sin((2 * Math.PI * (y + p.phase)) / p.period) > 0 ? 1 : 0;
    case "rings": return Math.sin((2 * Math.PI * Math.hypot(x - p.cx, y - p.cy)) / p.period) > 0 ? 1 : 0;
    default: return (Math.floor((x + p.phase) / (p.period / 2)) + Math.floor((y + p.phase) / (p.period / 2))) % 2;
  }
}

async function makeShapeFolder(dir: string, seed: number): Promise<void> {
  const rng = new Rng(seed);
  for (const kind of ["stripes", "rings", "checks"]) {
    mkdirSync(join(dir, kind), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const p = { period: 6 + rng.uniform() * 10, phase: rng.uniform() * 16, cx: rng.uniform() * SIDE, cy: rng.uniform() * SIDE };
      const fg = [rng.int(256), rng.int(256), rng.int(256)], bg = [rng.int(256), rng.int(256), rng.int(256)];
      const px = Buffer.alloc(SIDE * SIDE * 3);
      for (let y = 0; y < SIDE; y++) {
        for (let x = 0; x < SIDE; x++) {
          const t = pattern(kind, x, y, p);
          for (let k = 0; k < 3; k++) {
            const v = t * fg[k] + (1 - t) * bg[k] + (rng.uniform() - 0.5) * 160;
            px[(y * SIDE + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(v)));
          }
        }
      }
      await sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } }).jpeg({ quality: 80 }).toFile(join(dir, kind, `${kind}-${i}.jpg`));
    }
  }
}

let root = "", photos = "";
beforeAll(async () => {
  root = await tempDir("no-flag");
  photos = join(root, "shapes");
  await makeShapeFolder(photos, 11);
  process.chdir(root);
});
afterAll(removeTempDirs);

describe("train --data DIR with no other flags vs the original recipe", () => {
  it("ends at least as high on the same held-out test photos", async () => {
    const run = async (...flags: string[]) => {
      const r = await cli("train", "--data", photos, ...flags, "--json");
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as { metrics: { test_accuracy: number; test_count: number } };
    };
    const auto = await run("--out", "models/auto.bin");
    // The original recipe holds out no test split by itself: the same 20 % (same seed) is asked for.
    const original = await run("--recipe", "original", "--test-fraction", "0.2", "--out", "models/original.bin");
    expect(auto.metrics.test_count).toBe(24);
    expect(original.metrics.test_count).toBe(24);
    expect(auto.metrics.test_accuracy).toBeGreaterThanOrEqual(original.metrics.test_accuracy);
    // Not a tie at the top: the original recipe does not solve this folder (measured: 33 % vs 92 %).
    expect(original.metrics.test_accuracy).toBeLessThan(0.95);
  }, 600_000);
});
