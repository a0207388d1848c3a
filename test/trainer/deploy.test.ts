// `edge-cnn deploy --dry-run` builds the real bundle offline around the named model files (no file in
// the repo changes), and bad input to serve/deploy is one clear line, before wrangler runs.

import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.join(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "trainer/bin/edge-cnn.js");
const work = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-deploy-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const git = async () => (await promisify(execFile)("git", ["status", "--porcelain"], { cwd: ROOT })).stdout;

describe("edge-cnn deploy --dry-run", () => {
  it("bundles a folder of models offline, prints the bundle size and leaves git status as it was", async () => {
    const folder = path.join(work, "models");
    mkdirSync(folder);
    copyFileSync(path.join(ROOT, "models/cifar10.bin"), path.join(folder, "a.bin"));
    copyFileSync(path.join(ROOT, "models/dogs-vs-cats.bin"), path.join(folder, "b.bin"));
    const before = await git();
    const r = await run("deploy", "--model", folder, "--default", "b", "--dry-run");
    expect(r.code, r.stderr).toBe(0);
    const m = /^bundle: ([\d.]+) KiB, ([\d.]+) KiB gzip \(fits the Free plan's 3072 KiB gzip limit\) with models a, b \(default\)$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(1000); // both models (~630 KiB each, barely compressible) are in it
    expect(r.stdout).toContain("dry run: nothing was deployed");
    expect(await git()).toBe(before);
  });
});

describe("bad input to serve and deploy", () => {
  it("a missing file, a file that is not a model, clashing names and an unknown --default are one line each", async () => {
    const missing = await run("serve", "--model", "models/nope.bin");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^no such model file: models\/nope\.bin\n/);

    const notModel = path.join(work, "photo.bin");
    writeFileSync(notModel, "not a model at all, just text");
    const bad = await run("deploy", "--model", notModel, "--dry-run");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^edge-cnn deploy: .*photo\.bin: not an edge-cnn model file/);

    const clash = await run("deploy", "--model", path.join(ROOT, "models/cifar10.bin"), "--model", path.join(ROOT, "models/cifar10.bin"), "--dry-run");
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/two models are called "cifar10"/);

    const unknown = await run("deploy", "--model", path.join(ROOT, "models/cifar10.bin"), "--default", "pets", "--dry-run");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--default pets is not one of the models \(cifar10\)/);
  });

  it("rollback without a name, and publish without --model, say what is missing", async () => {
    const r = await run("rollback", "--local");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/name one published model/);
    const p = await run("publish", "--local");
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/missing --model FILE/);
  });
});
