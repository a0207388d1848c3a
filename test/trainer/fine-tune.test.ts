// Fine-tuning end to end: a base model trained on one folder, then `train --from` on a folder with other
// classes: the body starts from (and with --freeze-body stays at) the base's tensors, the head is new,
// the base's name and sha256 are in the provenance, and mismatched bases are refused with what to do.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadNetwork } from "../../shared/model-file.ts";
import { Optimizer } from "../../shared/optimizer.ts";
import { makeParam } from "../../shared/layers/layer.ts";
import { removeTempDirs, tempDir } from "./dataset/helpers.ts";
import { cli, makeColourFolder } from "./cli-helpers.ts";

let root = "", basePhotos = "", newPhotos = "";

beforeAll(async () => {
  root = await tempDir("finetune");
  basePhotos = join(root, "base-photos");
  newPhotos = join(root, "new-photos");
  await makeColourFolder(basePhotos, { red: [150, 20, 20], green: [20, 150, 20], blue: [20, 20, 150] }, 12, 36, 1);
  await makeColourFolder(newPhotos, { cyan: [20, 140, 140], magenta: [140, 20, 140], yellow: [140, 140, 20], grey: [90, 90, 90] }, 10, 36, 2);
  process.chdir(root);
  const base = await cli("train", "--data", basePhotos, "--epochs", "2", "--threads", "1", "--dtype", "f32", "--out", "models/base.bin");
  expect(base.code, base.err).toBe(0);
});
afterAll(removeTempDirs);

/** The unfolded tensors of a model file, by name. */
function tensors(file: string): Map<string, Float32Array> {
  const m = loadNetwork(readFileSync(join(root, file)), { fold: false });
  return new Map(m.net.params.map((p) => [p.name, p.data.slice()]));
}

/** Learned body tensors (batchnorm running statistics are recalibrated on the new data, by design). */
const learnedBody = (names: Iterable<string>) => [...names].filter((n) => !n.startsWith("affine") && !n.endsWith(".mean") && !n.endsWith(".var"));

describe("train --from BASE", () => {
  it("--freeze-body: every learned body tensor (and the whitening filters) equals the base's; a new head for the new classes", async () => {
    const r = await cli("train", "--data", newPhotos, "--from", "models/base.bin", "--freeze-body", "--epochs", "2", "--threads", "2", "--dtype", "f32", "--out", "models/frozen.bin");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/choice: arch airbench \(the base model's \(--from base.bin\), with a new 4-class head\)/);
    expect(r.err).toMatch(/choice: from base.bin \(\d+ body tensors from base \(sha256 [0-9a-f]{12}\); the body frozen \(--freeze-body\): only the head trains\)/);
    const base = tensors("models/base.bin"), tuned = tensors("models/frozen.bin");
    const body = learnedBody(base.keys());
    expect(body).toContain("conv1.weight"); // the whitening filters: copied, not recomputed from the new photos
    expect(body).toContain("batchnorm1.bias");
    for (const name of body) expect(tuned.get(name), name).toEqual(base.get(name));
    expect(tuned.get("affine1.weight")!.length).toBe(4 * 128);
    const model = loadNetwork(readFileSync(join(root, "models/frozen.bin")));
    expect(model.meta.labels).toEqual(["cyan", "grey", "magenta", "yellow"]);
    const prov = model.meta.provenance;
    expect(prov.base_model).toBe("base");
    expect(prov.base_sha256).toBe(createHash("sha256").update(readFileSync(join(root, "models/base.bin"))).digest("hex"));
    expect(JSON.parse(prov.config as string).bodyLr).toBe(0);
  });

  it("--body-lr 0.1 trains the body, less than a from-the-base run at the full rate", async () => {
    // 3 epochs of 3 steps: Lookahead's first average is at step 5 (before it, a run ends on its start).
    const run = async (out: string, extra: string[]) => {
      const r = await cli("train", "--data", newPhotos, "--from", "models/base.bin", ...extra, "--epochs", "3", "--threads", "1", "--dtype", "f32", "--seed", "3", "--out", out);
      expect(r.code, r.err).toBe(0);
      return tensors(out);
    };
    const base = tensors("models/base.bin");
    // (auto trains a fine-tuned body at 0.1 x by default: the full rate is asked for.)
    const slow = await run("models/slow.bin", ["--body-lr", "0.1"]), full = await run("models/full.bin", ["--body-lr", "1"]);
    const moved = (t: Map<string, Float32Array>) => {
      let d = 0;
      for (const name of learnedBody(base.keys())) {
        const a = base.get(name)!, b = t.get(name)!;
        for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
      }
      return d;
    };
    expect(moved(slow)).toBeGreaterThan(0);
    expect(moved(slow)).toBeLessThan(moved(full));
  });

  it("refuses a base whose architecture or input size does not fit, saying what to do", async () => {
    const arch = await cli("train", "--data", newPhotos, "--from", "models/base.bin", "--arch", "seed-cnn", "--out", "models/x.bin");
    expect(arch.code).toBe(1);
    expect(arch.err).toMatch(/\nedge-cnn train: models\/base.bin has the airbench architecture, so --arch seed-cnn cannot start from its weights: drop --arch/);
    const seed = await cli("train", "--data", basePhotos, "--recipe", "original", "--epochs", "1", "--threads", "1", "--out", "models/seed.bin");
    expect(seed.code, seed.err).toBe(0);
    const size = await cli("train", "--data", newPhotos, "--from", "models/seed.bin", "--input-size", "64", "--out", "models/y.bin");
    expect(size.code).toBe(1);
    expect(size.err).toMatch(/body tensor affine1.weight is 1024x512 in the base \(trained at 32x32\), 1024x2048 here at 64x64: .* use --input-size 32/);
    expect((await cli("train", "--data", newPhotos, "--freeze-body")).err).toMatch(/--freeze-body needs --from BASE.bin/);
    expect((await cli("train", "--data", newPhotos, "--from", "models/base.bin", "--freeze-body", "--body-lr", "0.1")).err).toMatch(/use --freeze-body or --body-lr, not both/);
    expect((await cli("train", "--data", newPhotos, "--from", "nope.bin")).err).toMatch(/cannot read model nope.bin: no such file/);
  });

  it("an airbench base fine-tunes at another --input-size (its body is size-agnostic)", async () => {
    const r = await cli("train", "--data", newPhotos, "--from", "models/base.bin", "--input-size", "64", "--epochs", "1", "--threads", "1", "--out", "models/at64.bin");
    expect(r.code, r.err).toBe(0);
    expect(loadNetwork(readFileSync(join(root, "models/at64.bin"))).meta.preprocess.size).toEqual([64, 64]);
  });
});

describe("optimiser groups compose", () => {
  it("a \"body.norm\" param moves by groupLr.body x groupLr.norm; 0 freezes it", () => {
    const step = (group: string | undefined, groupLr: Record<string, number>) => {
      const p = makeParam("p", [1], group ? { group } : {});
      p.grad[0] = 1;
      new Optimizer("sgd", [p], { lr: 1, groupLr }).step([p]);
      return -p.data[0];
    };
    expect(step("body.norm", { body: 0.1, norm: 64 })).toBeCloseTo(6.4, 6);
    expect(step("body", { body: 0.1, norm: 64 })).toBeCloseTo(0.1, 6);
    expect(step("norm", { body: 0.1, norm: 64 })).toBe(64);
    expect(step("body.whiten", { body: 0, whiten: 1 }) === 0).toBe(true);
    expect(step(undefined, { body: 0 })).toBe(1);
  });
});
