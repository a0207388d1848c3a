// End to end, as a user would: `edge-cnn serve` (real wrangler dev --local, workerd, local R2), then
// `edge-cnn publish --local` a second model under the served name, classify with it without
// restarting, `edge-cnn rollback`, classify with the first again. The repository stays untouched.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { defaultPreprocess, encodeModel, heInit, Network, type ArchSpec } from "../../shared/index.ts";

const ROOT = path.join(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "trainer/bin/edge-cnn.js");
const JPEG = readFileSync(path.join(ROOT, "test/fixtures/edge/cat-320x240.jpg"));
const work = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-e2e-"));
const state = path.join(work, "state");
let server: ChildProcess | undefined;

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => server!.once("exit", r));
  }
  rmSync(work, { recursive: true, force: true });
});

function tinyModel(name: string, labels: string[], seed: number): string {
  const spec: ArchSpec = { name: "tiny", input: [3, 16, 16], layers: [{ type: "conv", filters: 4, size: 3, pad: 1 }, { type: "relu" }, { type: "pool", size: 2 }, { type: "affine", units: labels.length }] };
  const n = new Network(spec);
  heInit(n.params, seed);
  const file = path.join(work, `${name}.bin`);
  writeFileSync(file, encodeModel(n, { name, version: "1.0.0", labels, preprocess: defaultPreprocess([16, 16]), metrics: {}, provenance: {} }, "f32"));
  return file;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    }).on("error", reject);
  });
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT });
  return stdout;
}

async function gitStatus(): Promise<string> {
  return (await promisify(execFile)("git", ["status", "--porcelain"], { cwd: ROOT })).stdout;
}

it("serve, publish --local, classify, rollback, classify: no restart, no redeploy, no file in the repo changed", async () => {
  const first = tinyModel("pets", ["cat", "dog"], 1);
  const second = tinyModel("pets-v2", ["tabby", "siamese", "persian"], 2);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const statusBefore = await gitStatus();

  server = spawn(process.execPath, [CLI, "serve", "--model", first, "--port", String(port), "--state", state], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  server.stdout!.on("data", (d) => { log += d; });
  server.stderr!.on("data", (d) => { log += d; });
  const deadline = Date.now() + 90_000;
  for (;;) {
    try { if ((await fetch(`${base}/health`)).ok) break; } catch { /* not up yet */ }
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`edge-cnn serve did not come up:\n${log}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(await gitStatus()).toBe(statusBefore);

  const classify = async () => {
    const res = await fetch(`${base}/v1/models/pets/classify`, { method: "POST", body: JPEG, headers: { "Content-Type": "image/jpeg" } });
    expect(res.status).toBe(200);
    const body = await res.json() as { model: { name: string }; predictions: Array<{ label: string }> };
    return { model: body.model.name, labels: body.predictions.map((p) => p.label).sort() };
  };
  expect(await classify()).toEqual({ model: "pets", labels: ["cat", "dog"] });

  expect(await cli("publish", "--model", second, "--name", "pets", "--local", "--state", state)).toMatch(/^published pets 1\.0\.0 .* in the local R2 bucket/);
  expect(await classify()).toEqual({ model: "pets-v2", labels: ["persian", "siamese", "tabby"] });
  const listed = JSON.parse(await cli("models", "--local", "--state", state, "--json")) as Array<{ name: string; versions: Array<{ live: boolean }> }>;
  expect(listed.map((m) => [m.name, m.versions.map((v) => v.live)])).toEqual([["pets", [true]]]);

  expect(await cli("rollback", "pets", "--local", "--state", state)).toMatch(/^pets: unpublished/);
  expect(await classify()).toEqual({ model: "pets", labels: ["cat", "dog"] });

  server.kill("SIGTERM");
  const code = await new Promise((r) => server!.once("exit", r));
  expect(code).toBe(0);
  expect(await gitStatus()).toBe(statusBefore);
}, 180_000);
