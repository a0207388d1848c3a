// npm run bench:edge [-- --datasets DIR] [--model FILE] [--quick] : what a request costs in workerd, the
// real Workers runtime. Builds the Worker exactly as `npm run deploy` does (wrangler deploy --dry-run;
// with --model, as `edge-cnn deploy --model FILE --bundle-only` does), runs the bundle in Miniflare's
// workerd and measures, per kind of request (--quick: only the CPU of the pixel upload, 640x480 and
// 1024x768 JPEGs):
//   - CPU per request: the workerd process's on-CPU time summed over its threads
//     (/proc/PID/task/*/schedstat, nanoseconds) around each of N sequential requests; p50 and mean;
//   - the in-isolate split from Server-Timing (decode, infer; local clocks are real, unlike production);
//   - the floor: the same number of bytes (zeros) read whole and refused, i.e. what local workerd and
//     Miniflare spend receiving the body and answering, and the request's CPU above it;
//   (every upload carries a Content-Length, as a browser's or curl's file upload does; one memory row
//   sends it chunked, without one, the path a streamed upload takes)
//   - the first request of a fresh isolate (model decode, codec start-up) against the second;
//   - peak memory above idle (VmHWM of a fresh workerd process minus its resident size once warm) for
//     phone-size photos (12 MP baseline and progressive JPEG with EXIF orientation, 12 MP PNG and WebP), a 48 MP
//     JPEG, eight concurrent 12 MP uploads, and how fast a 50,000 x 50,000 header is refused.
// Images are mosaics of real photos (../shared/datasets/dogs-vs-cats) in 250-pixel tiles: dense detail,
// about 3.7 bits per pixel at quality 85 (5.7 MB for 12 MP), more than most phone photos (2.5-4.5 MB);
// the "12 tiles" row (photos upscaled to 1008 px) is the smoother end. JPEG cost follows the bytes.
// Node only (sharp, Miniflare); a script, not a test: figures depend on the machine.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import sharp from "sharp";
import { decodeScaleDenom } from "../../shared/decode/scale.ts";
import { readImageHeader } from "../../shared/image-header.ts";
import { decodeModel } from "../../shared/model-file.ts";
import { collectModels, prepareWorker } from "../../trainer/worker/prepare.ts";

const ROOT = path.join(import.meta.dirname, "../..");
const datasetsArg = process.argv.indexOf("--datasets");
const datasets = path.resolve(datasetsArg > 0 ? process.argv[datasetsArg + 1] : path.join(ROOT, "../shared/datasets"));
const modelArg = process.argv.indexOf("--model");
const modelFile = modelArg > 0 ? path.resolve(process.argv[modelArg + 1]) : null;
const quick = process.argv.includes("--quick");
const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
const PIXELS_TYPE = "application/vnd.edge-cnn.pixels";

// ---------------------------------------------------------------------------------------------
// Build and run

function build(): string {
  if (modelFile) return buildWith(modelFile);
  if (!existsSync(path.join(ROOT, "models/cifar10.bin"))) {
    throw new Error("models/cifar10.bin is missing: the bench measures the shipped model. Put the model there first.");
  }
  const dist = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-bench-"));
  const out = execFileSync(path.join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dist], {
    cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" },
  }).toString();
  console.log(out.split("\n").find((l) => l.startsWith("Total Upload")) ?? "");
  return dist;
}

/** The Worker around one model file, as `edge-cnn deploy --model FILE --bundle-only --dry-run` builds it. */
function buildWith(file: string): string {
  const worker = prepareWorker(collectModels([file]), { withR2: false, purpose: "bench" });
  try {
    const dist = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-bench-"));
    const out = execFileSync(path.join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "-c", worker.config, "--dry-run", "--outdir", dist], {
      cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" },
    }).toString();
    console.log(`${path.basename(file)}: ${out.split("\n").find((l) => l.startsWith("Total Upload")) ?? ""}`);
    renameSync(path.join(dist, "entry.js"), path.join(dist, "index.js")); // the generated entry's bundle
    return dist;
  } finally {
    worker.cleanup();
  }
}

function compatibilityDate(): string {
  return /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(path.join(ROOT, "wrangler.toml"), "utf8"))![1];
}

async function start(dist: string): Promise<{ mf: Miniflare; pid: number }> {
  const before = new Set(workerdChildren());
  const mf = new Miniflare({
    modules: true, modulesRoot: dist, scriptPath: path.join(dist, "index.js"), compatibilityDate: compatibilityDate(),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }, { type: "Data", include: ["**/*.bin"] }],
  });
  await mf.ready;
  const pid = workerdChildren().find((p) => !before.has(p));
  if (!pid) throw new Error("cannot find the workerd process Miniflare started");
  return { mf, pid };
}

function workerdChildren(): number[] {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.includes("(workerd)") && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid;
    } catch {
      return false;
    }
  });
}

/** User + system CPU time of a process so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

/** On-CPU time of all threads of a process so far, in ms (nanosecond resolution, unlike /proc/PID/stat). */
function cpuPreciseMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // a thread that ended between listing and reading
    }
  }
  return ns / 1e6;
}

/** Peak and current resident memory of a process, in MiB. */
function memoryMiB(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)![1]);
  return { peak: kb("VmHWM") / 1024, now: kb("VmRSS") / 1024 };
}

interface Upload { name: string; body: Uint8Array; type: string; repeat: number }

/**
 * Posts `u` as a browser or curl uploads a file, with a Content-Length (dispatchFetch alone would
 * send it chunked, which few clients do); `chunked` sends it without one.
 */
async function post(mf: Miniflare, u: Upload, chunked = false): Promise<{ wallMs: number; decode: number; infer: number; top: string }> {
  const t0 = performance.now();
  const headers: Record<string, string> = { "Content-Type": u.type };
  if (!chunked) headers["Content-Length"] = String(u.body.length);
  const res = await mf.dispatchFetch("http://bench/v1/classify", { method: "POST", body: u.body, headers });
  const text = await res.text();
  const wallMs = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${u.name}: ${res.status} ${text}`);
  const timing = res.headers.get("server-timing") ?? "";
  const dur = (name: string): number => Number(new RegExp(`${name};dur=([\\d.]+)`).exec(timing)?.[1] ?? NaN);
  return { wallMs, decode: dur("decode"), infer: dur("infer"), top: (JSON.parse(text) as { predictions: Array<{ label: string }> }).predictions[0].label };
}

/** CPU p50 of posting as many zero bytes as `u` has (refused with 415 once read whole). */
async function floorCpu(mf: Miniflare, pid: number, u: Upload): Promise<number> {
  const zeros = new Uint8Array(u.body.length), cpus: number[] = [];
  for (let i = 0; i < Math.max(10, u.repeat >> 1) + 2; i++) {
    const cpu0 = cpuPreciseMs(pid);
    const res = await mf.dispatchFetch("http://bench/v1/classify", { method: "POST", body: zeros, headers: { "Content-Type": "image/jpeg", "Content-Length": String(zeros.length) } });
    await res.text();
    if (res.status !== 415) throw new Error(`floor for ${u.name}: ${res.status}`);
    if (i >= 2) cpus.push(cpuPreciseMs(pid) - cpu0);
  }
  return median(cpus);
}

/**
 * CPU of one native decode of `jpeg` at 1/denom by Debian's djpeg (libjpeg-turbo with its SIMD
 * code), the same-run reference for the Worker's decoding: bash's `times` gives its children's user +
 * sys time over `n` runs, less `n` runs on a 16x16 JPEG (process start-up). null without djpeg.
 */
async function djpegCpuMs(jpeg: Uint8Array, denom: number, n = 20): Promise<number | null> {
  if (!existsSync("/usr/bin/djpeg")) return null;
  const dir = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-djpeg-"));
  try {
    writeFileSync(path.join(dir, "a.jpg"), jpeg);
    writeFileSync(path.join(dir, "tiny.jpg"), await sharp({ create: { width: 16, height: 16, channels: 3, background: "#808080" } }).jpeg().toBuffer());
    const seconds = (t: string): number => { const m = /(\d+)m([\d.]+)s/.exec(t)!; return Number(m[1]) * 60 + Number(m[2]); };
    const run = (file: string): number => {
      const out = execFileSync("bash", ["-c", `for i in $(seq ${n}); do /usr/bin/djpeg -scale 1/${denom} -outfile /dev/null ${file}; done; times`], { cwd: dir }).toString();
      const [user, sys] = out.trim().split("\n")[1].trim().split(/\s+/); // the second line: children
      return (seconds(user) + seconds(sys)) * 1000;
    };
    return (run("a.jpg") - run("tiny.jpg")) / n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f1 = (x: number): string => x.toFixed(1).padStart(7);

// ---------------------------------------------------------------------------------------------
// Inputs

interface MosaicOptions { format?: "jpeg" | "png" | "webp"; progressive?: boolean; orientation?: number; tile?: number }

/**
 * A width x height image made of real photos tiled at their own resolution: JPEG quality 85, 4:2:0 (a
 * phone camera's settings), baseline or progressive, optionally with an EXIF orientation; or PNG.
 */
async function photoMosaic(width: number, height: number, opts: MosaicOptions = {}): Promise<Uint8Array> {
  const dir = path.join(datasets, "dogs-vs-cats/cat");
  const files = existsSync(dir) ? readdirSync(dir).sort().slice(0, 400) : [];
  if (files.length === 0) throw new Error(`no photos in ${dir}; pass --datasets DIR`);
  const tile = opts.tile ?? 250, tiles = [];
  let i = 0;
  for (let y = 0; y < height; y += tile) {
    for (let x = 0; x < width; x += tile) {
      const input = await sharp(path.join(dir, files[i++ % files.length])).resize(tile, tile, { fit: "cover" }).toBuffer();
      tiles.push({ input, left: x, top: y });
    }
  }
  const canvas = sharp({ create: { width, height, channels: 3, background: "#808080" }, limitInputPixels: false });
  const flat = sharp(await canvas.composite(tiles).raw().toBuffer(), { raw: { width, height, channels: 3 }, limitInputPixels: false });
  const encoded = opts.format === "png" ? flat.png() : opts.format === "webp" ? flat.webp({ quality: 80 }) : flat.jpeg({ quality: 85, chromaSubsampling: "4:2:0", progressive: opts.progressive ?? false });
  return new Uint8Array(await (opts.orientation ? encoded.withMetadata({ orientation: opts.orientation }) : encoded).toBuffer());
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dist = build();
  try {
    console.log("making test images from real photos ...");
    // The pixel upload is the model's own input size (32x32 for the shipped model).
    const [ph, pw] = decodeModel(readFileSync(modelFile ?? path.join(ROOT, "models/cifar10.bin"))).meta.preprocess.size;
    const uploads: Upload[] = [
      { name: `${pw}x${ph} pixel upload`, body: new Uint8Array(ph * pw * 3).map((_, i) => (i * 7) & 0xff), type: PIXELS_TYPE, repeat: 300 },
      { name: "640x480 JPEG", body: await photoMosaic(640, 480), type: "image/jpeg", repeat: 100 },
      { name: "1024x768 JPEG", body: await photoMosaic(1024, 768), type: "image/jpeg", repeat: 60 },
    ];
    if (!quick) {
      uploads.push(
        { name: "12 MP JPEG baseline, EXIF 6", body: await photoMosaic(4032, 3024, { orientation: 6 }), type: "image/jpeg", repeat: 20 },
        { name: "12 MP JPEG progressive, EXIF 6", body: await photoMosaic(4032, 3024, { progressive: true, orientation: 6 }), type: "image/jpeg", repeat: 20 },
        { name: "12 MP JPEG, 12 tiles, EXIF 6", body: await photoMosaic(4032, 3024, { tile: 1008, orientation: 6 }), type: "image/jpeg", repeat: 20 },
        { name: "12 MP PNG", body: await photoMosaic(4032, 3024, { format: "png" }), type: "image/png", repeat: 3 },
        { name: "12 MP WebP", body: await photoMosaic(4032, 3024, { format: "webp" }), type: "image/webp", repeat: 5 },
        { name: "48 MP JPEG (8000x6000)", body: await photoMosaic(8000, 6000), type: "image/jpeg", repeat: 3 },
      );
    }
    const [png12, webp12, jpeg48] = uploads.slice(6);

    console.log("\nCPU per request, warm isolate (workerd on-CPU time around each of N sequential requests); floor: the same");
    console.log("number of bytes of zeros, which the Worker reads whole and refuses (415): receiving the body and answering");
    console.log("request                            size KiB   N  CPU p50  CPU mean  wall p50  decode p50  infer p50  floor p50  above floor");
    const aboveFloor: Array<[Upload, number, number]> = [];
    {
      const { mf, pid } = await start(dist);
      for (const u of uploads) {
        for (let i = 0; i < 3; i++) await post(mf, u); // warm-up: JIT, codec start-up
        const cpus: number[] = [], walls: number[] = [], decodes: number[] = [], infers: number[] = [];
        for (let i = 0; i < u.repeat; i++) {
          const cpu0 = cpuPreciseMs(pid);
          const r = await post(mf, u);
          cpus.push(cpuPreciseMs(pid) - cpu0); walls.push(r.wallMs); decodes.push(r.decode); infers.push(r.infer);
        }
        const mean = cpus.reduce((a, b) => a + b, 0) / cpus.length;
        const floor = await floorCpu(mf, pid, u);
        if (u.type === "image/jpeg") aboveFloor.push([u, median(cpus) - floor, median(decodes)]);
        console.log(`${u.name.padEnd(33)} ${f1(u.body.length / 1024)} ${String(u.repeat).padStart(4)} ${f1(median(cpus))}  ${f1(mean)}   ${f1(median(walls))}    ${f1(median(decodes))}    ${f1(median(infers))}    ${f1(floor)}      ${f1(median(cpus) - floor)}`);
      }
      await mf.dispose();
    }

    console.log("\nsame-run reference: native djpeg (Debian's libjpeg-turbo, SIMD) decoding the same JPEG bytes at the scale the");
    console.log("Worker uses, CPU per decode (median of 3 batches of 20), against the Worker's decode p50 (in-isolate clock) and its");
    console.log("CPU above the floor for the whole request (decode, inference, the rest)");
    for (const [u, above, decode] of aboveFloor) {
      const header = readImageHeader(u.body)!;
      const denom = decodeScaleDenom(header.width, header.height, [ph, pw]);
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) { const ms = await djpegCpuMs(u.body, denom); if (ms !== null) runs.push(ms); }
      if (runs.length === 0) { console.log("(djpeg is not installed: apt-get install libjpeg-turbo-progs)"); break; }
      const native = median(runs);
      console.log(`${u.name.padEnd(33)} 1/${denom}  djpeg ${f1(native)} ms   Worker decode ${f1(decode)} ms (x${(decode / native).toFixed(2)}), above floor ${f1(above)} ms (x${(above / native).toFixed(2)})`);
    }
    if (quick) return;

    console.log("\nfresh isolate, request by request (median of 7 fresh workerd processes)");
    const steps: Array<[string, (mf: Miniflare) => Promise<unknown>]> = [
      ["GET /health (decodes the model)", (mf) => mf.dispatchFetch("http://bench/health").then((r) => r.text())],
      ["GET /health again", (mf) => mf.dispatchFetch("http://bench/health").then((r) => r.text())],
      ["first 32x32 pixel upload", (mf) => post(mf, uploads[0])],
      ["first 640x480 JPEG (codec start-up)", (mf) => post(mf, uploads[1])],
      ["second 640x480 JPEG", (mf) => post(mf, uploads[1])],
    ];
    const walls = steps.map(() => [] as number[]), cpus = steps.map(() => [] as number[]);
    for (let run = 0; run < 7; run++) {
      const { mf, pid } = await start(dist);
      for (const [i, [, step]] of steps.entries()) {
        const cpu0 = cpuPreciseMs(pid), t0 = performance.now();
        await step(mf);
        walls[i].push(performance.now() - t0);
        cpus[i].push(cpuPreciseMs(pid) - cpu0);
      }
      await mf.dispose();
    }
    for (const [i, [name]] of steps.entries()) console.log(`${name.padEnd(36)} ${f1(median(walls[i]))} ms wall ${f1(median(cpus[i]))} ms CPU`);

    console.log("\npeak memory above idle of the workerd process (VmHWM minus resident once warm), fresh process per row");
    const rows: Array<[string, Upload[], boolean?]> = [
      ["640x480 JPEG", [uploads[1]]],
      [uploads[3].name, [uploads[3]]],
      [uploads[4].name, [uploads[4]]],
      [png12.name, [png12]],
      [webp12.name, [webp12]],
      [jpeg48.name, [jpeg48]],
      ["8 concurrent 12 MP baseline JPEGs", Array.from({ length: 8 }, () => uploads[3])],
      ["8 concurrent 12 MP, half progressive", Array.from({ length: 8 }, (_, i) => uploads[3 + (i % 2)])],
      ["the same, chunked (no Content-Length)", Array.from({ length: 8 }, (_, i) => uploads[3 + (i % 2)]), true],
    ];
    for (const [name, batch, chunked] of rows) {
      const { mf, pid } = await start(dist);
      await post(mf, uploads[0]); // model loaded, isolate warm
      await post(mf, uploads[1]); // JPEG decoder instantiated
      const base = memoryMiB(pid);
      const cpu0 = cpuPreciseMs(pid), t0 = performance.now();
      const answers = await Promise.all(batch.map((u) => post(mf, u, chunked)));
      const cpu = cpuPreciseMs(pid) - cpu0, wall = performance.now() - t0;
      const after = memoryMiB(pid);
      console.log(`${name.padEnd(36)} +${f1(after.peak - base.now)} MiB (idle ${f1(base.now)}, peak ${f1(after.peak)}, after ${f1(after.now)}); ` +
        `${answers.length} answered (top-1 ${answers[0].top}), ${f1(cpu)} ms CPU, ${f1(wall)} ms wall`);
      await mf.dispose();
    }

    {
      const { mf } = await start(dist);
      const bomb = Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 50_000 >> 8, 50_000 & 0xff, 50_000 >> 8, 50_000 & 0xff, 1, 1, 0x11, 0, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0, 0xff, 0xd9]);
      await post(mf, uploads[0]);
      const t0 = performance.now();
      const res = await mf.dispatchFetch("http://bench/v1/classify", { method: "POST", body: bomb });
      const code = ((await res.json()) as { error?: { code: string } }).error?.code;
      console.log(`\n50,000 x 50,000 JPEG header: ${res.status} ${code} in ${(performance.now() - t0).toFixed(1)} ms wall`);
      await mf.dispose();
    }
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
}

await main();
