// The CLI end to end: argument errors, every command's --help, train -> info -> evaluate -> predict ->
// export on a tiny generated photo folder, and Ctrl-C during training followed by --resume.

import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeModel } from "../../shared/model-file.ts";
import { Rng } from "../../shared/rng.ts";
import { saveCheckpoint } from "../../trainer/training/checkpoint.ts";
import { removeTempDirs, tempDir } from "./dataset/helpers.ts";
import { cli } from "./cli-helpers.ts";

let root = "", photos = "";

/** 3 classes x 14 small photos: reddish, greenish and bluish noise, JPEG and PNG, odd sizes. */
async function makePhotoFolder(dir: string): Promise<void> {
  const rng = new Rng(3);
  for (const [c, name] of ["red", "green", "blue"].entries()) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < 14; i++) {
      const w = 40 + i, h = 30 + 2 * i, px = Buffer.alloc(w * h * 3);
      for (let p = 0; p < w * h; p++) for (let k = 0; k < 3; k++) px[p * 3 + k] = (k === c ? 140 : 30) + rng.int(110);
      const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
      await (i % 2 ? img.png() : img.jpeg({ quality: 90 })).toFile(join(dir, name, `${name}-${i}.${i % 2 ? "png" : "jpg"}`));
    }
  }
}

beforeAll(async () => {
  root = await tempDir("cli");
  photos = join(root, "photos");
  await makePhotoFolder(photos);
  process.chdir(root); // the decode cache and default folders go under the temp root
});
afterAll(removeTempDirs);

describe("argument errors exit non-zero with a helpful line", () => {
  it.each([
    [["train"], /missing --data PATH/],
    [["train", "--data", "x", "--bogus"], /edge-cnn train: unknown option --bogus\nRun `edge-cnn train --help` for the options./],
    [["train", "--data", "x", "--epochs", "abc"], /--epochs must be an integer, got "abc"/],
    [["train", "--data", "x", "--epochs", "0"], /--epochs must be at least 1, got 0/],
    [["train", "--data", "x", "--lr", "1e"], /--lr must be a number, got "1e"/],
    [["train", "--data", "x", "--optimizer", "rmsprop"], /--optimizer must be one of adam, sgd, momentum, nesterov, got "rmsprop"/],
    [["train", "--data", "x", "--val", "5", "--val-fraction", "0.1"], /use only one of --val, --val-fraction, --val-per-class/],
    [["train", "--data", "x", "--threads", "0"], /edge-cnn train: --threads must be at least 1, got 0\nRun `edge-cnn train --help` for the options./],
    [["crossval", "--data", "x", "--threads", "two"], /edge-cnn crossval: --threads must be an integer, got "two"/],
    [["predict", "--model", "m.bin"], /give one or more image files/],
    [["evaluate", "--model", "m.bin"], /missing --data/],
    [["download"], /say which dataset: "cifar10"/],
  ])("%j", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it("an unknown command lists the commands", async () => {
    const r = await cli("fly");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command "fly"[\s\S]*train[\s\S]*predict/);
  });

  it("every command has --help", async () => {
    for (const c of ["train", "evaluate", "predict", "crossval", "export", "info", "download"]) {
      const r = await cli(c, "--help");
      expect(r.code, c).toBe(0);
      expect(r.out, c).toMatch(new RegExp(`^edge-cnn ${c}: [\\s\\S]*Usage: [\\s\\S]*--help`));
    }
  });

  it("a missing or non-model file is one clear line, exit 1", async () => {
    expect((await cli("info", "--model", "nope.bin")).err).toBe("edge-cnn info: cannot read model nope.bin: no such file\n");
    writeFileSync(join(root, "fake.bin"), "{\"not\": \"a model\"}");
    const r = await cli("info", "--model", "fake.bin");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^edge-cnn info: fake.bin: not an edge-cnn model file: .*JSON/);
  });
});

describe("train -> info -> evaluate -> predict -> export", () => {
  it("works end to end on a photo folder", async () => {
    const train = await cli("train", "--data", photos, "--recipe", "original", "--epochs", "4", "--batch", "8", "--lr", "0.003", "--val-per-class", "3", "--out", "models/colours.bin", "--dtype", "f16", "--json");
    expect(train.err).toMatch(/colours: 3 classes, 33 training \/ 9 validation images/);
    expect(train.code).toBe(0);
    const summary = JSON.parse(train.out);
    expect(summary.metrics.val_count).toBe(9);
    for (const f of ["index.html", "loss.png", "accuracy.png", "confusion.png", "samples.png", "metrics.json", "log.jsonl"]) {
      expect(existsSync(join(root, "runs/colours", f)), f).toBe(true);
    }
    const log = readFileSync(join(root, "runs/colours/log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(log.filter((l) => l.type === "step")).toHaveLength(4 * 5);
    expect(log.filter((l) => l.type === "epoch").map((l) => l.epoch)).toEqual([1, 2, 3, 4]);

    const info = JSON.parse((await cli("info", "--model", "models/colours.bin", "--json")).out);
    expect(info).toMatchObject({ name: "colours", dtype: "f16", labels: ["blue", "green", "red"], architecture: "seed-cnn" });

    const ev = await cli("evaluate", "--model", "models/colours.bin", "--data", photos, "--split", "val", "--json");
    expect(ev.code).toBe(0);
    const evaluation = JSON.parse(ev.out);
    expect(evaluation.count).toBe(9);
    expect(evaluation.accuracy).toBeCloseTo(summary.metrics.val_accuracy, 4); // the same split, reproduced
    expect(evaluation.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(9);

    writeFileSync(join(root, "broken.jpg"), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 1, 2]));
    const pr = await cli("predict", "--model", "models/colours.bin", "--top", "2", "--json", join(photos, "red/red-0.jpg"), join(root, "broken.jpg"), join(photos, "blue/blue-1.png"));
    expect(pr.code).toBe(0);
    const preds = JSON.parse(pr.out);
    expect(preds).toHaveLength(3);
    expect(preds[0].predictions).toHaveLength(2);
    expect(preds[1].error).toBeTruthy();
    expect(preds[2].predictions[0].score).toBeGreaterThan(preds[2].predictions[1].score);

    const ex = await cli("export", "--model", "models/colours.bin", "--out", "colours.onnx");
    expect(ex.out).toMatch(/wrote colours.onnx: onnx/);
    const int8 = await cli("export", "--model", "models/colours.bin", "--out", "colours-int8.bin", "--dtype", "int8");
    expect(int8.code).toBe(0);
    expect(decodeModel(readFileSync(join(root, "colours-int8.bin"))).dtype).toBe("int8");
  });
});

describe("threads", () => {
  it("--threads 1 and --threads 2 under --deterministic write the same model, bit for bit", async () => {
    const base = ["train", "--data", photos, "--recipe", "original", "--epochs", "2", "--batch", "6", "--val-per-class", "3", "--seed", "4", "--deterministic"];
    const one = await cli(...base, "--threads", "1", "--out", "t1.bin", "--checkpoint", "ck-t1", "--report", "runs/t1");
    const two = await cli(...base, "--threads", "2", "--out", "t2.bin", "--checkpoint", "ck-t2", "--report", "runs/t2");
    expect(one.code).toBe(0);
    expect(one.err).toMatch(/, 1 thread, deterministic\)/);
    expect(two.err).toMatch(/, 2 threads, deterministic\)/);
    const a = decodeModel(readFileSync(join(root, "t1.bin"))), b = decodeModel(readFileSync(join(root, "t2.bin")));
    a.tensors.forEach((t, i) => expect(t.data, t.name).toEqual(b.tensors[i].data));
  });
});

describe("protecting the user's work", () => {
  it("an output path that cannot be written is refused before training starts", async () => {
    mkdirSync(join(root, "a-folder.bin"), { recursive: true });
    const r = await cli("train", "--data", photos, "--out", "a-folder.bin");
    expect(r.code).toBe(1);
    expect(r.err).toBe(`edge-cnn train: cannot write the model file ${join(root, "a-folder.bin")}: it is a folder\n`);
    writeFileSync(join(root, "plain-file"), "x");
    const e = await cli("export", "--model", "models/colours.bin", "--out", "plain-file/x.onnx");
    expect(e.code).toBe(1);
    expect(e.err).toMatch(/^edge-cnn export: cannot mkdir plain-file: a file is in the way\n$/);
  });

  it("a fresh run does not overwrite an unfinished run's checkpoint", async () => {
    saveCheckpoint(join(root, "ck-unfinished/last.ckpt"), { job: { name: "x" }, run: { epoch: 1, config: { epochs: 5 } } });
    const r = await cli("train", "--data", photos, "--checkpoint", "ck-unfinished", "--out", "u.bin");
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${join(root, "ck-unfinished/last.ckpt")} holds an unfinished run (1 of 5 epochs done). Resume it with: npx edge-cnn train --resume`);
    expect(existsSync(join(root, "u.bin"))).toBe(false);
  });

  it("extending a finished run with --resume --epochs keeps the whole loss history", async () => {
    const first = await cli("train", "--data", photos, "--recipe", "original", "--epochs", "1", "--batch", "11", "--val-per-class", "3", "--name", "ext", "--out", "ext.bin", "--threads", "1");
    expect(first.code).toBe(0);
    const more = await cli("train", "--resume", join(root, "checkpoints/ext/last.ckpt"), "--epochs", "2", "--lr", "0.5", "--threads", "1");
    expect(more.code).toBe(0);
    expect(more.err).toContain("note: with --resume the run's settings come from the checkpoint; ignoring --lr");
    const log = readFileSync(join(root, "runs/ext/log.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const steps = log.filter((l) => l.type === "step");
    expect(steps).toHaveLength(2 * 3);
    expect(steps.every((l) => Number.isFinite(l.loss))).toBe(true);
  });

  it("evaluate refuses to rebuild a split on data that changed since training", async () => {
    const copy = join(root, "photos-changed");
    cpSync(photos, copy, { recursive: true });
    cpSync(join(photos, "red/red-0.jpg"), join(copy, "red/extra.jpg"));
    const r = await cli("evaluate", "--model", "models/colours.bin", "--data", copy, "--split", "val");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/are not the ones models\/colours.bin was trained on \(files added, removed or changed\), so its val split cannot be reproduced/);
  });

  it("a folder with a single class says so", async () => {
    const one = join(root, "one-class");
    cpSync(join(photos, "red"), join(one, "red"), { recursive: true });
    const r = await cli("train", "--data", one);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/has only one class \(red\); a classifier needs at least 2/);
  });
});

describe("interrupting training", () => {
  it("Ctrl-C saves a checkpoint and says how to resume; resuming ends with the same weights as an uninterrupted run", async () => {
    const bin = join(__dirname, "../../trainer/bin/edge-cnn.js");
    const args = ["train", "--data", photos, "--recipe", "original", "--epochs", "3", "--batch", "4", "--val-per-class", "2", "--seed", "9"];
    const run = (extra: string[], interrupt: boolean) => new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, ...args, ...extra], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (d) => {
        err += d;
        if (interrupt && /epochs of \d+ steps/.test(err)) { interrupt = false; child.kill("SIGINT"); }
      });
      child.on("close", (code) => resolve({ code, err }));
    });
    const stopped = await run(["--out", "a.bin", "--checkpoint", "ck-a"], true);
    expect(stopped.err).toMatch(/SIGINT: finishing this step and saving a checkpoint/);
    expect(stopped.err).toMatch(/resume with: npx edge-cnn train --resume .*ck-a\/last.ckpt/);
    expect(stopped.code).toBe(130);
    expect(existsSync(join(root, "a.bin"))).toBe(false);
    // `--resume FILE` alone: the data, split, output and hyper-parameters all come from the checkpoint.
    const res = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [bin, "train", "--resume", join(root, "ck-a/last.ckpt")], { cwd: root, stdio: "ignore" });
      child.on("close", resolve);
    });
    expect(res).toBe(0);
    const whole = await run(["--out", "b.bin", "--checkpoint", "ck-b"], false);
    expect(whole.code).toBe(0);
    const a = decodeModel(readFileSync(join(root, "a.bin"))), b = decodeModel(readFileSync(join(root, "b.bin")));
    a.tensors.forEach((t, i) => expect(t.data, t.name).toEqual(b.tensors[i].data));
  }, 120_000);
});
