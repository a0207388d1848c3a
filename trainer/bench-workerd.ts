// The forward pass inside workerd, the real Workers runtime, for `npm run bench`: shared/ and the
// committed kernels.wasm bundled by esbuild into a tiny Worker (the Wasm imported as a compiled module,
// as in production), run by Miniflare. The Worker times N single-image forwards of a frozen network
// (seed-cnn or airbench, batchnorm folded as loadNetwork does) itself (local workerd clocks advance,
// at 1 ms resolution, so N is large).

import { build } from "esbuild";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";

const ROOT = path.join(import.meta.dirname, "..");

const entry = (arch: string): string => `
import kernelsModule from "./kernels.wasm";
import { ARCHITECTURES, bestKernels, inferenceNetwork, initNetwork, Network, Rng } from ${JSON.stringify(path.join(ROOT, "shared/index.ts"))};
const trained = new Network(ARCHITECTURES[${JSON.stringify(arch)}](10), { kernels: bestKernels(kernelsModule) });
initNetwork(trained, 1);
const net = inferenceNetwork(trained, { kernels: bestKernels(kernelsModule) });
net.freeze();
const rng = new Rng(2), x = new Float32Array(net.inputSize).map(() => rng.uniform());
export default {
  async fetch(request) {
    const n = Number(new URL(request.url).searchParams.get("n") ?? "500");
    for (let i = 0; i < 20; i++) net.forward(x, 1);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) net.forward(x, 1);
    return Response.json({ ms: (performance.now() - t0) / n, kernels: net.kernels.name, ua: navigator.userAgent });
  },
};`;

export interface WorkerdForward {
  /** Median ms per single-image forward over the runs. */
  msPerImage: number[];
  kernels: string;
}

export async function benchWorkerdForward(arch: string, runs: number, n = arch === "seed-cnn" ? 1000 : 100): Promise<WorkerdForward> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-bench-workerd-"));
  try {
    await build({
      stdin: { contents: entry(arch), resolveDir: dir, loader: "js" }, bundle: true, format: "esm", platform: "neutral",
      outfile: path.join(dir, "index.js"), external: ["./kernels.wasm"], logLevel: "error",
    });
    copyFileSync(path.join(ROOT, "shared/kernels/wasm/kernels.wasm"), path.join(dir, "kernels.wasm"));
    const mf = new Miniflare({
      modules: true, modulesRoot: dir, scriptPath: path.join(dir, "index.js"), compatibilityDate: "2026-04-26",
      modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    });
    try {
      const msPerImage: number[] = [];
      let kernels = "?";
      for (let r = 0; r < runs; r++) {
        const res = await mf.dispatchFetch(`http://bench/?n=${n}`);
        const body = (await res.json()) as { ms: number; kernels: string; ua: string };
        if (body.ua !== "Cloudflare-Workers") throw new Error(`not running in workerd: ${body.ua}`);
        msPerImage.push(body.ms);
        kernels = body.kernels;
      }
      return { msPerImage, kernels };
    } finally {
      await mf.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) {
  const r = await benchWorkerdForward(process.argv[2] ?? "seed-cnn", 5);
  console.log(r);
}
