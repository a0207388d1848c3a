// The Worker bundle must stay under 3 MiB gzip (the Workers Free plan's script limit), model
// included. Builds it the way `npm run deploy` does (wrangler deploy --dry-run) in a temporary copy
// of the project, so the test writes nothing here. With models/cifar10.bin missing it measures a
// stand-in: the default architecture saved as f32, the largest a shipped model of it can be.

import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { defaultPreprocess, encodeModel, heInit, Network, seedCnn } from "../../shared/index.ts";

const ROOT = path.join(import.meta.dirname, "../..");
const LIMIT_KIB = 3 * 1024;
const MODEL = "models/cifar10.bin";

const work = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-bundle-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it(`the Worker bundle (code, Wasm decoders, ${existsSync(path.join(ROOT, MODEL)) ? MODEL : "a stand-in f32 seed-cnn model"}) is under 3 MiB gzip`, async () => {
  for (const item of ["edge", "shared", "wrangler.toml", "package.json"]) cpSync(path.join(ROOT, item), path.join(work, item), { recursive: true });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(work, "node_modules"), "dir");
  cpSync(path.join(ROOT, "models"), path.join(work, "models"), { recursive: true });
  if (!existsSync(path.join(work, MODEL))) {
    const net = new Network(seedCnn(10));
    heInit(net.params, 1);
    const meta = { name: "stand-in", version: "0", labels: Array.from({ length: 10 }, (_, i) => `c${i}`), preprocess: defaultPreprocess(), metrics: {}, provenance: {} };
    writeFileSync(path.join(work, MODEL), encodeModel(net, meta, "f32"));
  }

  const { stdout, stderr } = await promisify(execFile)(
    path.join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", "dist"],
    { cwd: work, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", CI: "1" } },
  );
  const match = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout + stderr);
  expect(match, `wrangler printed no bundle size:\n${stdout}\n${stderr}`).not.toBeNull();
  const [raw, gzip] = [Number(match![1]), Number(match![2])];
  console.log(`Worker bundle: ${raw} KiB raw, ${gzip} KiB gzip (limit ${LIMIT_KIB} KiB gzip)`);

  const modules = readdirSync(path.join(work, "dist"));
  // The JPEG and WebP decoders (shared/decode; PNG is TypeScript) and the CNN kernels.
  expect(modules.filter((f) => f.endsWith(".wasm")).map((f) => f.replace(/^[0-9a-f]+-/, "")).sort()).toEqual(["jpeg.wasm", "kernels.wasm", "webp.wasm"]);
  expect(modules.some((f) => f.endsWith("cifar10.bin"))).toBe(true);
  expect(gzip).toBeLessThanOrEqual(LIMIT_KIB);
});
