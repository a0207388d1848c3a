// The airbench recipe's pieces in the trainer: the recipe preset and its overrides, the triangle
// schedule, alternating flips, reflect-translate, test-time views, and a short real run of the
// airbench net on synthetic data that learns.
import { describe, expect, it } from "vitest";
import { airbench, ARCHITECTURES, defaultPreprocess, forwardViews, initNetwork, Network, Rng, shiftFlip, viewsOf } from "../../shared/index.ts";
import { parseCommand } from "../../trainer/cli/args.ts";
import { configFrom, trainCommand } from "../../trainer/commands/train.ts";
import { RECIPES } from "../../trainer/training/recipes.ts";
import { INGREDIENTS, parseWithout, removeIngredients } from "../../trainer/training/ablation.ts";
import { baseFlip, BatchMaker } from "../../trainer/training/batches.ts";
import { learningRate } from "../../trainer/training/schedule.ts";
import { newRunState, runTraining, type RunState, type TrainConfig } from "../../trainer/training/run.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../../trainer/training/checkpoint.ts";
import { syntheticDataset } from "./synthetic.ts";

const flags = (...argv: string[]) => parseCommand(trainCommand, ["--data", "x", ...argv]).values;
/** The config a fixed preset gives with these flags (as train does for --recipe NAME). */
const config = (name: string, ...argv: string[]) => configFrom(flags("--recipe", name, ...argv), RECIPES[name]);

describe("recipes", () => {
  it("--recipe airbench sets airbench93's hyperparameters (lr and wd per 1024 examples, decoupled)", () => {
    const c = config("airbench");
    expect(c).toMatchObject({ epochs: 11, batch: 1024, optimizer: "nesterov", schedule: "triangle", labelSmoothing: 0.2, momentum: 0.85, lookahead: true, whitenBiasEpochs: 3, groupLr: { norm: 64 } });
    expect(c.lr).toBeCloseTo(11.5 / (1 + 1 / 0.15), 10); // 1.5 for a batch-mean loss at batch 1024
    expect(c.weightDecay).toBeCloseTo(0.0153 / 11.5, 12);
    expect(c.augment).toEqual({ flip: true, pad: 2, flipMode: "alternate", padMode: "reflect" });
    expect(RECIPES.airbench.arch).toBe("airbench");
  });

  it("each flag overrides one setting; the lr follows the batch size", () => {
    const c = config("airbench", "--batch", "512", "--epochs", "3", "--label-smoothing", "0");
    expect([c.batch, c.epochs, c.labelSmoothing, c.optimizer]).toEqual([512, 3, 0, "nesterov"]);
    expect(c.lr).toBeCloseTo(0.75, 10);
    expect(config("airbench", "--lr", "0.3").lr).toBe(0.3);
    expect(config("airbench", "--optimizer", "adam").lr).toBe(1e-3);
  });

  it("the original recipe is the original design's", () => {
    expect(config("original")).toMatchObject({ epochs: 10, batch: 100, optimizer: "adam", lr: 1e-3, schedule: "none", labelSmoothing: 0 });
    expect([RECIPES.original.arch, RECIPES.original.dropout]).toEqual(["seed-cnn", 0.5]);
  });
});

describe("--without: the ablation's ingredients", () => {
  const airbenchRun = () => ({ config: config("airbench"), spec: airbench(10) });

  it("each ingredient changes its own setting and nothing else", () => {
    const fresh = airbenchRun();
    const changed: Record<string, (c: TrainConfig, s: ReturnType<typeof airbench>) => unknown> = {
      whitening: (_c, s) => s.layers[0],
      dirac: (_c, s) => s.layers.filter((l) => l.type === "conv").slice(1).map((l) => (l as { init?: string }).init),
      "bn-lr": (c) => c.groupLr,
      lookahead: (c) => c.lookahead,
      "alt-flip": (c) => c.augment.flipMode,
      translate: (c) => c.augment.pad,
      "label-smoothing": (c) => c.labelSmoothing,
    };
    expect(Object.keys(changed).sort()).toEqual(Object.keys(INGREDIENTS).sort());
    const after: Record<string, unknown> = {
      whitening: { type: "conv", filters: 24, size: 2, stride: 1, pad: 0, init: "uniform" },
      dirac: Array(6).fill("uniform"),
      "bn-lr": {},
      lookahead: false,
      "alt-flip": "random",
      translate: 0,
      "label-smoothing": 0,
    };
    for (const name of Object.keys(INGREDIENTS)) {
      const run = airbenchRun();
      const lines = removeIngredients([name], run.config, run.spec);
      expect(lines[0], name).toBe(`${name}: ${INGREDIENTS[name].instead}`);
      expect(changed[name](run.config, run.spec), name).toEqual(after[name]);
      // Everything the other ingredients look at is as the recipe had it.
      for (const other of Object.keys(INGREDIENTS)) {
        if (other !== name) expect(changed[other](run.config, run.spec), `${name} left ${other} alone`).toEqual(changed[other](fresh.config, fresh.spec));
      }
    }
  });

  it("a net without whitening trains its first conv, which whitening froze", () => {
    const run = airbenchRun();
    removeIngredients(["whitening"], run.config, run.spec);
    const net = new Network(run.spec);
    expect(net.param("conv1.weight").trainable).not.toBe(false);
    expect(new Network(airbench(10)).param("conv1.weight").trainable).toBe(false);
  });

  it("an unknown name, an empty list, or an ingredient the run does not have is a usage error", () => {
    expect(() => parseWithout("lookahead,dropout")).toThrow('edge-cnn train: --without: unknown ingredient "dropout"; choose from whitening, dirac, bn-lr, lookahead, alt-flip, translate, label-smoothing');
    expect(() => parseWithout(",")).toThrow("edge-cnn train: --without needs one or more of: whitening");
    expect(() => parseWithout("toString")).toThrow(/unknown ingredient "toString"/);
    expect(parseWithout("lookahead, alt-flip")).toEqual(["lookahead", "alt-flip"]);
    expect(() => removeIngredients(["whitening"], config("original"), ARCHITECTURES["seed-cnn"](10))).toThrow("edge-cnn train: --without whitening: this run has no whitening to leave out (seed-cnn, its recipe and flags)");
    expect(() => removeIngredients(["lookahead"], config("original"), airbench(10))).toThrow(/--without lookahead: this run has no lookahead/);
    expect(() => removeIngredients(["label-smoothing"], config("airbench", "--label-smoothing", "0"), airbench(10))).toThrow(/no label-smoothing/);
  });
});

describe("triangle schedule", () => {
  it("rises from 0.2x to 1x over 23 % of the steps, then falls to 0.07x", () => {
    const at = (s: number) => learningRate("triangle", 2, s, 1000);
    expect(at(0)).toBeCloseTo(0.4, 12);
    expect(at(115)).toBeCloseTo(2 * (0.2 * 0.5 + 0.5), 12);
    expect(at(230)).toBeCloseTo(2, 12);
    expect(at(1000)).toBeCloseTo(0.14, 12);
    expect(at(615)).toBeCloseTo(2 * (0.5 + 0.07 * 0.5), 12);
  });
});

describe("augmentation", () => {
  const ds = { count: 8, size: [4, 4] as [number, number], classes: ["a", "b"], labels: new Int32Array(8), images: new Uint8Array(8 * 48).map((_, i) => i % 251) };

  it("alternating flips: every image is seen mirrored exactly every other epoch, half of them in epoch 0", () => {
    const flips = Array.from({ length: 1000 }, (_, i) => baseFlip(i, 1));
    const share = flips.reduce((a, b) => a + b, 0) / 1000;
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.55);
    const maker = new BatchMaker(ds as never, 8, defaultPreprocess([4, 4]));
    const order = Int32Array.from({ length: 8 }, (_, i) => i);
    const aug = { flip: true, pad: 0, flipMode: "alternate" as const };
    maker.fill(order, 0, 8, aug, new Rng(1), 0, 1);
    const e0 = maker.x.slice();
    maker.fill(order, 0, 8, aug, new Rng(1), 1, 1);
    const e1 = maker.x.slice();
    maker.fill(order, 0, 8, aug, new Rng(1), 2, 1);
    expect(maker.x).toEqual(e0); // epochs 0 and 2 alike
    const plain = new BatchMaker(ds as never, 8, defaultPreprocess([4, 4]));
    plain.fill(order, 0, 8);
    for (let k = 0; k < 8; k++) {
      const seg = (a: Float32Array) => Array.from(a.subarray(k * 48, (k + 1) * 48));
      const flipped = baseFlip(k, 1) === 1;
      expect(seg(flipped ? e1 : e0)).toEqual(seg(plain.x)); // unflipped in exactly one of the two epochs
      expect(seg(flipped ? e0 : e1)).not.toEqual(seg(plain.x));
    }
  });

  it("reflect-translate brings in mirrored pixels, not black", () => {
    const src = Uint8Array.from({ length: 3 * 3 * 3 }, (_, i) => 10 + i);
    const out = new Uint8Array(27);
    shiftFlip(src, out, 3, 3, -1, 0, false, true); // out(y, x) = in(y, x - 1): column 0 reflects column 1
    for (let y = 0; y < 3; y++) {
      expect(Array.from(out.subarray((y * 3) * 3, (y * 3) * 3 + 3))).toEqual(Array.from(src.subarray((y * 3 + 1) * 3, (y * 3 + 1) * 3 + 3)));
      expect(Array.from(out.subarray((y * 3 + 1) * 3, (y * 3 + 1) * 3 + 3))).toEqual(Array.from(src.subarray((y * 3) * 3, (y * 3) * 3 + 3)));
    }
    shiftFlip(src, out, 3, 3, -1, 0, false, false);
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 0, 0]);
  });
});

describe("test-time views", () => {
  it("weights sum to 1; flip-translate is airbench's 6 views", () => {
    for (const set of ["none", "flip", "flip-translate"] as const) expect(viewsOf(set).reduce((s, v) => s + v.weight, 0)).toBe(1);
    expect(viewsOf("flip-translate").length).toBe(6);
  });

  it("forwardViews averages the logits of each view's own forward pass", () => {
    const net = new Network(airbench(3, 16, [4, 8, 8]));
    initNetwork(net, 1);
    const spec = defaultPreprocess([16, 16]), rng = new Rng(3);
    net.calibrateBatchnorm((f) => f(new Float32Array(8 * net.inputSize).map(() => rng.uniform()), 8));
    const imgs = [0, 1].map(() => new Uint8Array(16 * 16 * 3).map(() => rng.int(256)));
    const got = forwardViews(net, 2, (k) => imgs[k], spec, "flip-translate");
    for (let k = 0; k < 2; k++) {
      const want = [0, 0, 0];
      for (const v of viewsOf("flip-translate")) {
        const view = new Uint8Array(imgs[k].length);
        shiftFlip(imgs[k], view, 16, 16, v.dx, v.dy, v.flip, true);
        const x = new Float32Array(net.inputSize);
        for (let c = 0; c < 3; c++) for (let i = 0; i < 256; i++) x[c * 256 + i] = view[i * 3 + c] / 255;
        const logits = net.forward(x, 1);
        for (let c = 0; c < 3; c++) want[c] += v.weight * logits[c];
      }
      for (let c = 0; c < 3; c++) expect(Math.abs(got[k * 3 + c] - want[c])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[c])));
    }
    expect(Array.from(forwardViews(net, 1, () => imgs[0], spec, "none"))).not.toEqual(Array.from(got.subarray(0, 3)));
  });
});

describe("a short airbench run on the synthetic set", () => {
  // 8x8 images: whitening 2x2 -> 7x7, pools -> 3, 1, and the last group's pool needs 2x2, so 16x16.
  const upscale = (ds: ReturnType<typeof syntheticDataset>) => {
    const images = new Uint8Array(ds.count * 16 * 16 * 3);
    for (let i = 0; i < ds.count; i++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) for (let c = 0; c < 3; c++) {
      images[((i * 16 + y) * 16 + x) * 3 + c] = ds.images[((i * 8 + (y >> 1)) * 8 + (x >> 1)) * 3 + c];
    }
    return { ...ds, size: [16, 16] as [number, number], images };
  };
  const base = (): TrainConfig => ({
    ...config("airbench"), epochs: 4, batch: 16, lr: (11.5 / (1 + 1 / 0.15)) * (16 / 1024) * 4, seed: 3,
  });
  const start = (cfg: TrainConfig, ds: ReturnType<typeof upscale>) => {
    const idx = Int32Array.from({ length: ds.count }, (_, i) => i);
    return newRunState({ config: cfg, spec: airbench(3, 16, [8, 16, 16]), labels: ds.classes, preprocess: defaultPreprocess([16, 16]), split: { train: idx.slice(0, 96), val: idx.slice(96) }, dataFingerprint: "t" }, ds);
  };

  it("learns it, with whitening computed from the data, Lookahead and calibrated batchnorm statistics", async () => {
    const ds = upscale(syntheticDataset(120));
    const state0 = start(base(), ds);
    const w = state0.weights[0];
    expect(w.length).toBe(24 * 12);
    expect(Array.from(w.subarray(0, 12))).toEqual(Array.from(w.subarray(144, 156)).map((v) => -v)); // both signs
    const { state, net } = await runTraining(state0, ds);
    expect(state.epochs[3].valAccuracy).toBeGreaterThan(0.9);
    const bnMean = net.param("batchnorm1.mean").data;
    expect(bnMean.some((v) => v !== 0)).toBe(true); // calibrated
    net.params.forEach((p, i) => { if (p.trainable !== false) expect(state.lookahead![i]).toEqual(p.data); }); // final weights = the average
    expect(Array.from(net.param("conv1.weight").data)).toEqual(Array.from(w)); // the whitening filters never train
  });

  it("resumed from a mid-epoch checkpoint equals the uninterrupted run (Lookahead state included)", async () => {
    const ds = upscale(syntheticDataset(120));
    const whole = await runTraining(start(base(), ds), ds);
    let calls = 0, saved: Uint8Array | null = null;
    const first = await runTraining(start(base(), ds), ds, { shouldStop: () => ++calls === 9, checkpoint: (s) => { saved = encodeCheckpoint(s); } });
    expect(first.stopped).toBe(true);
    const second = await runTraining(decodeCheckpoint<RunState>(saved!), ds);
    whole.net.params.forEach((p, i) => expect(second.net.params[i].data, p.name).toEqual(p.data));
  });
});
