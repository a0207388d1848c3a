// The default recipe and its siblings: sizing from the data (unit), the no-flag run on a folder (choices
// printed and stored, a test split, the weight type chosen against f32), flags replacing choices,
// --input-size at 32/64/96 through the decode cache, the model file and ONNX export, and crossval.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeModel, loadNetwork } from "../../shared/model-file.ts";
import { Rng } from "../../shared/rng.ts";
import { chooseRecipe, chooseTestFraction } from "../../trainer/training/auto-recipe.ts";
import { RECIPES } from "../../trainer/training/recipes.ts";
import { removeTempDirs, tempDir } from "./dataset/helpers.ts";
import { cli, makeColourFolder } from "./cli-helpers.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

let root = "", photos = "";
const COLOURS: Record<string, [number, number, number]> = { red: [150, 20, 20], green: [20, 150, 20], blue: [20, 20, 150] };

beforeAll(async () => {
  root = await tempDir("recipes");
  photos = join(root, "photos");
  await makeColourFolder(photos, COLOURS, 25, 40); // 3 x 25: big enough for the default test split
  process.chdir(root);
  ort.env.wasm.numThreads = 1;
});
afterAll(removeTempDirs);

const readModel = (file: string) => decodeModel(readFileSync(join(root, file)));

describe("chooseRecipe sizes airbench's recipe to the data", () => {
  const folder = (train: number, val = 10, size = 32) => chooseRecipe("auto", { kind: "folder", train, val, classes: 3, size });

  it("a small folder: batch 16 (the floor), enough epochs for 500 steps, the last epoch kept", () => {
    const { recipe, choices } = folder(86);
    expect(recipe.arch).toBe("airbench");
    expect(recipe.batch).toBe(16);
    expect(recipe.epochs).toBe(Math.ceil(500 / Math.ceil(86 / 16)));
    expect(recipe.keep).toBe("last");
    expect(recipe.lr(16)).toBeCloseTo(RECIPES.airbench.lr(16), 12);
    expect(choices.map((c) => c.setting)).toEqual(["recipe", "batch", "epochs", "lr", "augment", "keep", "whiten-bias-epochs"]);
    expect(choices.find((c) => c.setting === "batch")!.why).toMatch(/86 training images \/ 8 = 10, rounded down to a power of two/);
  });

  it("a bigger folder: batch a power of two near train/8, the best epoch kept when validation is big enough", () => {
    const { recipe } = folder(2304, 320);
    expect(recipe.batch).toBe(256);
    expect(recipe.epochs).toBe(Math.ceil(500 / 9));
    expect(recipe.keep).toBe("best");
    expect(recipe.extra.whitenBiasEpochs).toBe(Math.round((recipe.epochs * 3) / 11));
  });

  it("fine-tuning gets a quarter of the steps (at least airbench's 11 epochs), and says why", () => {
    const { recipe, choices } = chooseRecipe("auto", { kind: "folder", train: 2304, val: 256, classes: 2, size: 32, fineTune: true });
    expect(recipe.epochs).toBe(14); // 125 steps of 9
    expect(choices.find((c) => c.setting === "epochs")!.why).toMatch(/at least 125 steps in all \(fine-tuning: a quarter of the 500/);
    // A small folder: at least 7,500 images in all (sign digits: 98.5 % at 11 epochs, 100 % at 42).
    expect(chooseRecipe("auto", { kind: "folder", train: 180, val: 40, classes: 4, size: 32, fineTune: true }).recipe.epochs).toBe(42);
    expect(recipe.extra.bodyLr).toBe(0.1);
    expect(choices.at(-1)).toMatchObject({ setting: "body-lr", value: 0.1 });
    expect(folder(2304).recipe.extra.bodyLr).toBeUndefined();
  });

  it("CIFAR-10-sized folders get airbench's batch and epochs; CIFAR-10 itself gets airbench exactly", () => {
    expect(folder(49000).recipe).toMatchObject({ batch: 1024, epochs: 11 });
    expect(chooseRecipe("auto", { kind: "cifar10", train: 49000, val: 1000, classes: 10, size: 32 }).recipe).toBe(RECIPES.airbench);
  });

  it("translate padding scales with --input-size; a given batch or epochs is used and not listed", () => {
    expect(folder(86, 10, 64).recipe.augment.pad).toBe(4);
    expect(folder(86, 10, 96).recipe.augment.pad).toBe(6);
    const given = chooseRecipe("auto", { kind: "folder", train: 86, val: 10, classes: 3, size: 32 }, { batch: 43, epochs: 3 });
    expect(given.recipe).toMatchObject({ batch: 43, epochs: 3 });
    expect(given.choices.map((c) => c.setting)).not.toContain("batch");
    expect(given.choices.map((c) => c.setting)).not.toContain("epochs");
  });

  it("fast: airbench-small and fewer steps; original and airbench are fixed presets", () => {
    const fast = chooseRecipe("fast", { kind: "folder", train: 86, val: 10, classes: 3, size: 32 }).recipe;
    expect(fast.arch).toBe("airbench-small");
    expect(fast.epochs).toBeLessThan(folder(86).recipe.epochs);
    expect(chooseRecipe("original", { kind: "folder", train: 86, val: 10, classes: 3, size: 32 })).toEqual({ recipe: RECIPES.original, choices: [] });
  });

  it("a test split only when every class has 20 or more images", () => {
    expect(chooseTestFraction([25, 30]).value).toBe(0.2);
    const none = chooseTestFraction([25, 19]);
    expect(none.value).toBe(0);
    expect(none.why).toMatch(/smallest class has only 19 images/);
  });
});

describe("train --data DIR with no other flags", () => {
  it("--help lists the recipes, auto first and the default", async () => {
    const r = await cli("train", "--help");
    expect(r.out).toMatch(/--recipe auto\|original\|airbench\|fast\n[^\n]*\(default: auto\)/);
    expect(r.out).toMatch(/Recipes \(--recipe\):\n  auto {6}the default: [^\n]*\n  original  the original design[^\n]*\n  airbench  [^\n]*\n  fast      airbench's recipe on airbench-small/);
  });

  it("prints every choice once, holds out a test split, picks the weight type and stores it all in the model file", async () => {
    // --epochs replaces one choice (and keeps the test short); everything else is the default's.
    const r = await cli("train", "--data", photos, "--epochs", "2", "--threads", "1", "--out", "models/auto.bin", "--json");
    expect(r.code).toBe(0);
    const lines = r.err.split(/[\r\n]+/).filter((l) => l.startsWith("choice: "));
    const settings = lines.map((l) => l.split(" ")[1]);
    expect(settings).toEqual(["test-fraction", "recipe", "batch", "lr", "augment", "keep", "whiten-bias-epochs", "body-lr", "arch", "from", "dtype"]);
    expect(new Set(settings).size).toBe(settings.length); // once each
    // A folder fine-tunes the shipped CIFAR-10 model by default, and says why.
    expect(r.err).toMatch(/choice: from cifar10.bin \(image folder: fine-tuning the shipped CIFAR-10 model matched or beat training from scratch on every folder measured \(docs\/training.md\); --from none trains from scratch; 26 body tensors from cifar10/);
    expect(r.err).toMatch(/choice: test-fraction 0.2 \(20 % of every class held out/);
    expect(r.err).toMatch(/choice: batch 16 \(54 training images/); // 75 - 15 test - 6 validation (10 % of 60)
    expect(r.err).toMatch(/auto: 3 classes, 54 training \/ 6 validation images \/ 15 test images held out; 2 epochs/);
    expect(r.err).toMatch(/test accuracy \d+\.\d+% \(15 images never used in training\)/);

    const model = readModel("models/auto.bin");
    expect(model.spec.name).toBe("airbench");
    const prov = model.meta.provenance;
    expect(prov.recipe).toBe("auto");
    expect(prov.base_file).toBe("cifar10.bin");
    expect(prov.base_sha256).toBe(createHash("sha256").update(readFileSync(join(REPO, "models/cifar10.bin"))).digest("hex"));
    const stored = JSON.parse(prov.choices as string) as string[];
    expect(stored).toHaveLength(lines.length);
    expect(stored.map((c) => `choice: ${c}`)).toEqual(lines);
    expect(JSON.parse(prov.split as string)).toMatchObject({ testFraction: 0.2, valFraction: 0.1 });
    // The weight type: the smallest within 0.5 points of f32 on validation, both accuracies recorded.
    const m = model.meta.metrics as Record<string, number>;
    const chosen = model.dtype;
    expect(stored.at(-1)).toMatch(new RegExp(`^dtype ${chosen} `));
    expect(m.val_accuracy_f32).toBeTypeOf("number");
    expect(m[`val_accuracy_${chosen}`]).toBeGreaterThanOrEqual(m.val_accuracy_f32 - 0.005);
    if (chosen !== "int8") expect(m.val_accuracy_int8).toBeLessThan(m.val_accuracy_f32 - 0.005);
    expect(m.val_accuracy).toBeCloseTo(m[`val_accuracy_${chosen}`], 4);
    expect(m.test_count).toBe(15);
    expect(JSON.parse(r.out).metrics.test_accuracy).toBe(m.test_accuracy);
  });

  it("--from none trains from scratch: no base, no from/arch choice; --arch does too", async () => {
    for (const flag of [["--from", "none"], ["--arch", "airbench-small"]]) {
      const r = await cli("train", "--data", photos, "--epochs", "1", "--test-fraction", "0", "--dtype", "f32", "--threads", "1", ...flag, "--out", "models/scratch.bin");
      expect(r.code, r.err).toBe(0);
      const settings = r.err.split(/[\r\n]+/).filter((l) => l.startsWith("choice: ")).map((l) => l.split(" ")[1]);
      expect(settings, flag.join(" ")).toEqual(["recipe", "batch", "lr", "augment", "keep", "whiten-bias-epochs"]);
      expect(readModel("models/scratch.bin").meta.provenance.base_file, flag.join(" ")).toBeUndefined();
    }
  });

  it("flags replace choices: --test-fraction 0, --batch, --keep, --dtype are used and not printed as choices", async () => {
    const r = await cli("train", "--data", photos, "--epochs", "1", "--batch", "20", "--keep", "best", "--test-fraction", "0", "--dtype", "f16", "--threads", "1", "--out", "models/flags.bin");
    expect(r.code).toBe(0);
    const settings = r.err.split(/[\r\n]+/).filter((l) => l.startsWith("choice: ")).map((l) => l.split(" ")[1]);
    expect(settings).toEqual(["recipe", "lr", "augment", "whiten-bias-epochs", "body-lr", "arch", "from"]);
    expect(r.err).toMatch(/flags: 3 classes, 67 training \/ 8 validation images; 1 epoch of 4 steps \(batch 20/);
    const model = readModel("models/flags.bin");
    expect(model.dtype).toBe("f16");
    expect(JSON.parse(model.meta.provenance.config as string)).toMatchObject({ batch: 20, keep: "best", epochs: 1 });
  });
});

describe("--without (ablation)", () => {
  it("leaves the ingredients out, says what it does instead, and stores that in the model file", async () => {
    const r = await cli("train", "--data", photos, "--from", "none", "--epochs", "1", "--test-fraction", "0", "--dtype", "f32", "--threads", "1", "--without", "whitening,lookahead", "--out", "models/ablated.bin");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/choice: without whitening,lookahead \(whitening: the first conv is a plain trained conv .*; lookahead: no Lookahead/);
    const model = readModel("models/ablated.bin");
    expect(model.spec.layers[0]).toMatchObject({ type: "conv", init: "uniform" });
    expect(JSON.parse(model.meta.provenance.config as string)).toMatchObject({ lookahead: false });
    expect((JSON.parse(model.meta.provenance.choices as string) as string[]).some((c) => c.startsWith("without whitening,lookahead ("))).toBe(true);
  });

  it("an unknown ingredient fails before any data is read, with the list to choose from", async () => {
    const r = await cli("train", "--data", join(root, "no-such-folder"), "--without", "whitenning");
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe('edge-cnn train: --without: unknown ingredient "whitenning"; choose from whitening, dirac, bn-lr, lookahead, alt-flip, translate, label-smoothing');
  });
});

describe("--input-size N", () => {
  it.each([32, 64, 96])("%i: the model file's preprocessing and network are N x N", async (n) => {
    const r = await cli("train", "--data", photos, "--recipe", "fast", "--epochs", "1", "--input-size", String(n), "--threads", "1", "--out", `models/s${n}.bin`, "--dtype", "f32");
    expect(r.code, r.err).toBe(0);
    const model = readModel(`models/s${n}.bin`);
    expect(model.meta.preprocess.size).toEqual([n, n]);
    expect(model.spec.input).toEqual([3, n, n]);
    expect(r.err).toMatch(new RegExp(`choice: augment alternating flip \\+ ${Math.round((2 * n) / 32)}-pixel reflect translate`));
    // The decode cache held N x N examples: evaluate reproduces the split from the same cache key.
    const ev = JSON.parse((await cli("evaluate", "--model", `models/s${n}.bin`, "--data", photos, "--split", "val", "--json")).out);
    expect(ev.accuracy).toBeCloseTo((model.meta.metrics as Record<string, number>).val_accuracy, 4);
  });

  it("a 64x64 model exports to ONNX with a 64x64 input that agrees with our forward pass", async () => {
    const ex = await cli("export", "--model", "models/s64.bin", "--out", "s64.onnx");
    expect(ex.code, ex.err).toBe(0);
    const { net } = loadNetwork(readFileSync(join(root, "models/s64.bin")));
    const session = await ort.InferenceSession.create(readFileSync(join(root, "s64.onnx")));
    try {
      const meta = session.inputMetadata[0];
      expect(meta.isTensor && meta.shape).toEqual(["N", 3, 64, 64]);
      const rng = new Rng(2), x = Float32Array.from({ length: 2 * 3 * 64 * 64 }, () => rng.uniform());
      const out = await session.run({ input: new ort.Tensor("float32", x, [2, 3, 64, 64]) });
      const ours = net.forward(x, 2);
      const theirs = out.logits.data as Float32Array;
      for (let i = 0; i < ours.length; i++) expect(Math.abs(theirs[i] - ours[i])).toBeLessThan(1e-4);
    } finally {
      await session.release();
    }
  });

  it("is checked as a number", async () => {
    expect((await cli("train", "--data", photos, "--input-size", "4")).err).toMatch(/--input-size must be at least 8, got 4/);
  });
});

describe("crossval takes the same recipes", () => {
  it("prints the choices made for the folder and reports mean +- std", async () => {
    const r = await cli("crossval", "--data", photos, "--repeats", "2", "--val-per-class", "3", "--epochs", "1", "--threads", "1", "--json");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/choice: recipe auto/);
    expect(r.err).toMatch(/choice: batch 16 \(66 training images/);
    const result = JSON.parse(r.out);
    expect(result.accuracies).toHaveLength(2);
  });
});
