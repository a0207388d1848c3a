// Trainer-vs-Worker parity on large photos, the ones that decode at reduced scale: the test makes
// 12 MP and 3 MP images of every JPEG kind a camera or an editor writes (baseline, progressive,
// restart markers, 4:4:4, 4:2:2, greyscale, CMYK, EXIF-rotated), a PNG and WebPs, classifies each with
// `edge-cnn predict`'s code (predictFiles) and with the real Worker (the deploy bundle in workerd,
// via Miniflare), and requires the same top-1 and probabilities within 1e-5 (they are identical:
// the same decoder builds run in both). cjpeg (libjpeg-turbo-progs, installed by .ci/run) writes the
// variants sharp cannot (restart markers, 4:2:2); without it those two are skipped, said so below.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { predictFiles } from "../../trainer/commands/predict.ts";

const ROOT = path.join(import.meta.dirname, "../..");
const MODEL = path.join(ROOT, "models/cifar10.bin"); // what edge/model-file.ts bundles
const CJPEG = ["/usr/bin/cjpeg"].find((p) => existsSync(p));

let dir: string, dist: string, mf: Miniflare;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-large-"));
  dist = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-large-dist-"));
  execFileSync(path.join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dist], {
    cwd: ROOT, stdio: "ignore",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" },
  });
  mf = new Miniflare({
    modules: true, modulesRoot: dist, scriptPath: path.join(dist, "index.js"), compatibilityDate: "2026-04-26",
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }, { type: "Data", include: ["**/*.bin"] }],
  });
  await mf.ready;
}, 120_000);

afterAll(async () => {
  await mf?.dispose();
  for (const d of [dir, dist]) if (d) rmSync(d, { recursive: true, force: true });
});

/** A width x height photo: a real fixture upscaled, with fine noise so the encoder has detail to code. */
async function photo(width: number, height: number): Promise<{ data: Buffer; info: sharp.OutputInfo }> {
  const base = await sharp(path.join(ROOT, "test/fixtures/edge/dog-500x375-progressive.jpg")).resize(width, height).raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < base.data.length; i++) base.data[i] = Math.max(0, Math.min(255, base.data[i] + ((i * 2654435761) >>> 28) - 8));
  return base;
}

/** cjpeg from a PPM, for what sharp cannot write. */
function cjpeg(rgb: { data: Buffer; info: sharp.OutputInfo }, args: string[]): Buffer {
  const ppm = path.join(dir, `in-${args.join("")}.ppm`);
  writeFileSync(ppm, Buffer.concat([Buffer.from(`P6\n${rgb.info.width} ${rgb.info.height}\n255\n`), rgb.data]));
  return execFileSync(CJPEG!, [...args, "-quality", "88", ppm], { maxBuffer: 64 * 1024 * 1024 });
}

interface Case { name: string; make: () => Promise<Buffer>; needs?: "cjpeg" }

const raw = (img: { data: Buffer; info: sharp.OutputInfo }) => sharp(img.data, { raw: { width: img.info.width, height: img.info.height, channels: 3 }, limitInputPixels: false });
let big: Promise<{ data: Buffer; info: sharp.OutputInfo }> | undefined, mid: Promise<{ data: Buffer; info: sharp.OutputInfo }> | undefined;
const big12 = () => (big ??= photo(4032, 3024)); // 12 MP, decoded at 1/8
const mid3 = () => (mid ??= photo(2000, 1500)); // 3 MP, decoded at 1/4

const CASES: Case[] = [
  { name: "12 MP baseline 4:2:0", make: async () => raw(await big12()).jpeg({ quality: 88 }).toBuffer() },
  { name: "12 MP progressive 4:2:0", make: async () => raw(await big12()).jpeg({ quality: 88, progressive: true }).toBuffer() },
  { name: "12 MP baseline, EXIF orientation 6", make: async () => raw(await big12()).jpeg({ quality: 88 }).withMetadata({ orientation: 6 }).toBuffer() },
  { name: "12 MP progressive, EXIF orientation 3", make: async () => raw(await big12()).jpeg({ quality: 88, progressive: true }).withMetadata({ orientation: 3 }).toBuffer() },
  { name: "3 MP baseline 4:4:4", make: async () => raw(await mid3()).jpeg({ quality: 88, chromaSubsampling: "4:4:4" }).toBuffer() },
  { name: "3 MP progressive 4:4:4", make: async () => raw(await mid3()).jpeg({ quality: 88, chromaSubsampling: "4:4:4", progressive: true }).toBuffer() },
  { name: "3 MP greyscale", make: async () => raw(await mid3()).toColourspace("b-w").jpeg({ quality: 88 }).toBuffer() },
  { name: "3 MP CMYK", make: async () => raw(await mid3()).toColourspace("cmyk").jpeg({ quality: 88 }).toBuffer() },
  { name: "12 MP with restart markers (every MCU row)", make: async () => cjpeg(await big12(), ["-restart", "1"]), needs: "cjpeg" },
  { name: "3 MP 4:2:2", make: async () => cjpeg(await mid3(), ["-sample", "2x1"]), needs: "cjpeg" },
  { name: "3 MP progressive with restart markers", make: async () => cjpeg(await mid3(), ["-progressive", "-restart", "2"]), needs: "cjpeg" },
  { name: "12 MP PNG", make: async () => raw(await big12()).png({ compressionLevel: 1 }).toBuffer() },
  { name: "12 MP WebP (lossy), EXIF orientation 6", make: async () => raw(await big12()).webp({ quality: 80 }).withMetadata({ orientation: 6 }).toBuffer() },
  { name: "3 MP WebP (lossless, alpha)", make: async () => raw(await mid3()).ensureAlpha(0.5).webp({ lossless: true }).toBuffer() },
];

describe("large photos: edge-cnn predict and the Worker agree exactly", () => {
  for (const c of CASES) {
    it.skipIf(c.needs === "cjpeg" && !CJPEG)(c.name, async () => {
      const file = path.join(dir, `${c.name.replace(/\W+/g, "-")}.${c.name.includes("PNG") ? "png" : c.name.includes("WebP") ? "webp" : "jpg"}`);
      writeFileSync(file, await c.make());
      const [trainer] = await predictFiles(MODEL, [file], 10);
      expect(trainer.error, `predict: ${trainer.error}`).toBeUndefined();
      const res = await mf.dispatchFetch("http://worker/v1/classify?top=10", { method: "POST", body: readFileSync(file) });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      const worker = (JSON.parse(body) as { predictions: Array<{ label: string; score: number }> }).predictions;
      expect(worker[0].label).toBe(trainer.predictions![0].label);
      const byLabel = new Map(worker.map((p) => [p.label, p.score]));
      const diff = Math.max(...trainer.predictions!.map((p) => Math.abs(p.score - byLabel.get(p.label)!)));
      console.log(`${c.name} (${(readFileSync(file).length / 2 ** 20).toFixed(1)} MiB): top-1 ${worker[0].label}, max |p_worker - p_predict| = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
    }, 60_000);
  }
});

if (!CJPEG) console.warn("large-image-parity.test.ts: cjpeg not installed (apt-get install libjpeg-turbo-progs): restart-marker and 4:2:2 cases skipped");
