import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultPreprocess, DivergenceError } from "../../shared/index.ts";
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint, CheckpointError } from "../../trainer/training/checkpoint.ts";
import { calibrationSample, newRunState, runTraining, type RunState, type TrainConfig } from "../../trainer/training/run.ts";
import { learningRate } from "../../trainer/training/schedule.ts";
import { syntheticDataset, TINY_SPEC } from "./synthetic.ts";

const spec = TINY_SPEC;

const config: TrainConfig = {
  epochs: 3, batch: 7, lr: 3e-3, optimizer: "adam", schedule: "cosine", warmupSteps: 2, weightDecay: 1e-4,
  labelSmoothing: 0.1, augment: { flip: true, pad: 2 }, seed: 5, keep: "last",
};

function fresh(cfg: TrainConfig = config): RunState {
  const ds = syntheticDataset(60);
  const idx = Int32Array.from({ length: 60 }, (_, i) => i);
  return newRunState({ config: cfg, spec, labels: ds.classes, preprocess: defaultPreprocess([8, 8]), split: { train: idx.slice(0, 50), val: idx.slice(50) }, dataFingerprint: "test" });
}

describe("training run", () => {
  it("learns the synthetic set and records every step and epoch", async () => {
    const steps: number[] = [];
    const { state, stopped } = await runTraining(fresh({ ...config, epochs: 10, lr: 1e-2 }), syntheticDataset(60), { onStep: (s) => steps.push(s.stepInEpoch) });
    expect(stopped).toBe(false);
    expect(state.epochs).toHaveLength(10);
    expect(steps.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2]);
    expect(state.stepLoss).toHaveLength(80);
    expect(state.epochs[9].valAccuracy).toBeGreaterThan(0.8);
    expect(state.epochs[9].trainLoss).toBeLessThan(state.epochs[0].trainLoss);
  });

  it("resumed from a mid-epoch checkpoint (via the file format) gives bit-identical weights to an uninterrupted run", async () => {
    const ds = syntheticDataset(60);
    const whole = await runTraining(fresh(), ds);

    const dir = mkdtempSync(join(tmpdir(), "edge-cnn-resume-"));
    let calls = 0;
    const first = await runTraining(fresh(), ds, {
      shouldStop: () => ++calls === 11, // stop in the middle of epoch 2
      checkpoint: (s) => saveCheckpoint(join(dir, "last.ckpt"), s),
    });
    expect(first.stopped).toBe(true);
    expect(first.state.epoch).toBe(1);
    expect(first.state.stepInEpoch).toBe(2); // 8 step polls + 1 epoch-end poll, then 2 steps
    const restored = loadCheckpoint<RunState>(join(dir, "last.ckpt"));
    const second = await runTraining(restored, ds);
    expect(second.stopped).toBe(false);
    whole.net.params.forEach((p, i) => expect(second.net.params[i].data, p.name).toEqual(p.data));
    expect(Array.from(second.state.stepLoss)).toEqual(Array.from(whole.state.stepLoss));
    expect(second.state.epochs.map((e) => [e.trainLoss, e.trainAccuracy, e.valAccuracy])).toEqual(whole.state.epochs.map((e) => [e.trainLoss, e.trainAccuracy, e.valAccuracy]));
  });

  it("keep best restores the weights of the best validation epoch", async () => {
    const { net, state } = await runTraining(fresh({ ...config, keep: "best" }), syntheticDataset(60));
    const best = state.best!;
    expect(best.valAccuracy).toBe(Math.max(...state.epochs.map((e) => e.valAccuracy!)));
    net.params.forEach((p, i) => expect(p.data).toEqual(best.weights[i]));
  });

  it("stops a diverging run with DivergenceError and the last checkpoint stays finite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-cnn-nan-"));
    const state = fresh({ ...config, optimizer: "sgd", lr: 1e5, schedule: "none", warmupSteps: 0 });
    saveCheckpoint(join(dir, "last.ckpt"), state);
    await expect(runTraining(state, syntheticDataset(60), { checkpoint: (s) => saveCheckpoint(join(dir, "last.ckpt"), s) })).rejects.toThrow(DivergenceError);
    const saved = loadCheckpoint<RunState>(join(dir, "last.ckpt"));
    expect(saved.weights.every((w) => w.every(Number.isFinite))).toBe(true);
  });
});

describe("checkpoint file", () => {
  it("round-trips typed arrays and plain values", () => {
    const value = { a: 1, s: "x", f: new Float32Array([1.5, -2, NaN]), i: new Int32Array([7, -8]), nested: [{ g: new Float32Array(3) }] };
    const back = decodeCheckpoint<typeof value>(encodeCheckpoint(value));
    expect(back.a).toBe(1);
    expect(Array.from(back.f)).toEqual([1.5, -2, NaN]);
    expect(back.i).toBeInstanceOf(Int32Array);
    expect(Array.from(back.i)).toEqual([7, -8]);
    expect(back.nested[0].g).toEqual(new Float32Array(3));
  });

  it("refuses a corrupted, truncated, foreign or missing file with a clear message", () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-cnn-ckpt-"));
    const bytes = encodeCheckpoint({ w: new Float32Array(100).fill(1) });
    const flipped = bytes.slice(); flipped[60] ^= 1;
    expect(() => decodeCheckpoint(flipped, "checkpoint x")).toThrow("checkpoint x is corrupted or truncated (checksum mismatch); use an earlier checkpoint or start again");
    expect(() => decodeCheckpoint(bytes.subarray(0, 200), "checkpoint x")).toThrow(/checksum mismatch/);
    expect(() => decodeCheckpoint(bytes.subarray(0, 10), "checkpoint x")).toThrow("checkpoint x is truncated (10 bytes)");
    writeFileSync(join(dir, "model.bin"), new TextEncoder().encode("ECNN and then some more bytes"));
    expect(() => loadCheckpoint(join(dir, "model.bin"))).toThrow(/is not an edge-cnn checkpoint/);
    expect(() => loadCheckpoint(join(dir, "nope.ckpt"))).toThrow(new CheckpointError(`cannot read checkpoint ${join(dir, "nope.ckpt")}: no such file`));
    expect(readFileSync(join(dir, "model.bin")).length).toBeGreaterThan(0);
  });
});

describe("learning-rate schedules", () => {
  it("warm up linearly, then follow their shape", () => {
    expect(learningRate("none", 1, 0, 100, 4)).toBe(0.25);
    expect(learningRate("none", 1, 50, 100, 4)).toBe(1);
    expect(learningRate("cosine", 1, 0, 100)).toBe(1);
    expect(learningRate("cosine", 1, 50, 100)).toBeCloseTo(0.5, 10);
    expect(learningRate("cosine", 1, 100, 100)).toBeCloseTo(0, 10);
    expect(learningRate("step", 1, 49, 100)).toBe(1);
    expect(learningRate("step", 1, 60, 100)).toBeCloseTo(0.1);
    expect(learningRate("step", 1, 80, 100)).toBeCloseTo(0.01);
    expect(learningRate("onecycle", 1, 0, 100)).toBeCloseTo(0.04);
    expect(learningRate("onecycle", 1, 30, 100)).toBeCloseTo(1.0001, 4);
    expect(learningRate("onecycle", 1, 100, 100)).toBeCloseTo(1e-4);
  });
});

describe("batchnorm calibration sample", () => {
  it("spreads over the whole training set, so a folder listed class by class gives every class its share", () => {
    // 2,304 sorted training indices of a pool that lists 1,280 cats, then 1,280 dogs (as a folder does).
    const train = Int32Array.from({ length: 2304 }, (_, i) => (i < 1152 ? i : 1280 + (i - 1152)));
    const sample = calibrationSample(train, 512);
    expect(sample.length).toBe(512);
    expect(new Set(sample).size).toBe(512);
    expect(sample.filter((i) => i < 1280).length).toBe(256);
    expect(Array.from(calibrationSample(train.subarray(0, 100), 512))).toEqual(Array.from(train.subarray(0, 100)));
  });
});
