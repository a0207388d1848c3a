// npm run load [-- --duration S --connections N --url URL] : a mixed load against the local Worker.
// Starts `wrangler dev --local` (what `npm start` runs) on a free loopback port, or uses --url, and
// drives it with autocannon for a bounded time: every connection cycles through JPEG (640x480,
// 1024x768 progressive, 12 MP with EXIF orientation), PNG (1 MP), WebP (640x480) and pre-processed
// pixel uploads, all valid. Prints throughput, p50/p99 latency and the status counts; exits 1 on any
// error, timeout or non-2xx answer. Loopback only: --url must be http://127.0.0.1 or localhost.

import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import autocannon from "autocannon";
import sharp from "sharp";

const ROOT = path.join(import.meta.dirname, "../..");
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const duration = Number(arg("duration", "60")), connections = Number(arg("connections", "4"));
if (!(duration > 0 && duration <= 600) || !(connections >= 1 && connections <= 64)) {
  throw new Error("--duration must be 1..600 seconds and --connections 1..64");
}

/** A free loopback port (not 8787, which `npm start` may be using). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => (port === 8787 ? freePort().then(resolve, reject) : resolve(port)));
    });
  });
}

async function startWorker(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child: ChildProcess = spawn(path.join(ROOT, "node_modules/.bin/wrangler"), ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", CI: "1" },
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const stop = () => { try { process.kill(-child.pid!, "SIGTERM"); } catch { /* already gone */ } };
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 90_000; ;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, stop };
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { stop(); throw new Error(`wrangler dev did not answer /health in 90 s:\n${log}`); }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** A photo-like test image: real photos tiled (../shared/datasets) or, without them, a fixture upscaled. */
async function image(width: number, height: number): Promise<sharp.Sharp> {
  const dir = path.join(ROOT, "../shared/datasets/dogs-vs-cats/cat");
  let files: string[] = [];
  try { files = readdirSync(dir).sort().slice(0, 200).map((f) => path.join(dir, f)); } catch { /* no datasets here */ }
  if (files.length === 0) return sharp(path.join(ROOT, "test/fixtures/edge/dog-500x375-progressive.jpg")).resize(width, height);
  const tile = 250, tiles = [];
  let i = 0;
  for (let y = 0; y < height; y += tile) for (let x = 0; x < width; x += tile) {
    tiles.push({ input: await sharp(files[i++ % files.length]).resize(tile, tile, { fit: "cover" }).toBuffer(), left: x, top: y });
  }
  const canvas = await sharp({ create: { width, height, channels: 3, background: "#808080" } }).composite(tiles).raw().toBuffer();
  return sharp(canvas, { raw: { width, height, channels: 3 } });
}

async function main(): Promise<void> {
  console.log("making the uploads ...");
  const uploads: Array<{ name: string; type: string; body: Buffer }> = [
    { name: "640x480 JPEG", type: "image/jpeg", body: await (await image(640, 480)).jpeg({ quality: 85 }).toBuffer() },
    { name: "32x32 pixels", type: "application/vnd.edge-cnn.pixels", body: Buffer.from(new Uint8Array(32 * 32 * 3).map((_, i) => (i * 7) & 0xff)) },
    { name: "1024x768 progressive JPEG", type: "image/jpeg", body: await (await image(1024, 768)).jpeg({ quality: 85, progressive: true }).toBuffer() },
    { name: "640x480 WebP", type: "image/webp", body: await (await image(640, 480)).webp({ quality: 80 }).toBuffer() },
    { name: "1 MP PNG", type: "image/png", body: await (await image(1152, 864)).png().toBuffer() },
    { name: "12 MP JPEG, EXIF 6", type: "image/jpeg", body: await (await image(4032, 3024)).jpeg({ quality: 85 }).withMetadata({ orientation: 6 }).toBuffer() },
  ];
  for (const u of uploads) console.log(`  ${u.name.padEnd(26)} ${(u.body.length / 1024).toFixed(0).padStart(6)} KiB`);

  const given = arg("url", "");
  if (given && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(given)) throw new Error(`--url must be a loopback address, got ${given}`);
  const worker = given ? { url: given, stop: () => {} } : await startWorker();
  try {
    for (const u of uploads) { // each kind answers 200 before the load starts
      const res = await fetch(`${worker.url}/v1/classify`, { method: "POST", body: new Uint8Array(u.body), headers: { "Content-Type": u.type } });
      if (res.status !== 200) throw new Error(`${u.name}: ${res.status} ${await res.text()}`);
    }
    console.log(`\nautocannon: ${connections} connections for ${duration} s against ${worker.url}/v1/classify (the uploads in turn)`);
    const result = await autocannon({
      url: worker.url, connections, duration, timeout: 30,
      requests: uploads.map((u) => ({ method: "POST" as const, path: "/v1/classify", headers: { "content-type": u.type }, body: u.body })),
    });
    const { requests, latency, throughput } = result;
    console.log(`requests: ${result.requests.total} in ${result.duration.toFixed(1)} s = ${requests.average.toFixed(1)} req/s (answers ${(throughput.average / 1024).toFixed(1)} KiB/s)`);
    console.log(`latency: p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms`);
    console.log(`status: 2xx ${result["2xx"]}, non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`);
    if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) process.exitCode = 1;
  } finally {
    worker.stop();
  }
}

await main();
