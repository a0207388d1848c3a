// The Wasm SIMD kernels as a build artefact and a runtime choice: the committed .wasm is exactly its
// source's build, it needs no imports (so every runtime can instantiate it the same way), and where
// SIMD is missing the TS kernels are chosen automatically. Their numbers are checked by the shared
// conformance suite and the gradient checks (IMPLEMENTATIONS).

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bestKernels, createWasmKernels, heInit, Network, Rng, seedCnn, tsKernels, wasmSimdSupported } from "../../shared/index.ts";
import { buildWasm } from "../../trainer/build-wasm.ts";
import { KERNELS_WASM_URL, kernelsModule, loadBestKernels } from "../../trainer/kernels-node.ts";

describe("kernels.wasm", () => {
  it("is byte-identical to a fresh build of shared/kernels/wasm/assembly (run npm run build:wasm after editing it)", async () => {
    const { wasm } = await buildWasm();
    const committed = new Uint8Array(readFileSync(KERNELS_WASM_URL));
    expect(committed.length, "size of the committed kernels.wasm vs a fresh build").toBe(wasm.length);
    expect(Buffer.compare(committed, wasm), "the committed kernels.wasm differs from a fresh build").toBe(0);
  }, 120_000);

  it("imports nothing and exports its memory and the kernel entry points", () => {
    const m = kernelsModule();
    expect(WebAssembly.Module.imports(m)).toEqual([]);
    const names = WebAssembly.Module.exports(m).map((e) => e.name);
    for (const f of ["memory", "gemm", "convForward", "convBackward", "affineForward", "affineBackward", "maxpoolForward", "reluForward"]) {
      expect(names).toContain(f);
    }
  });
});

describe("choosing kernels", () => {
  afterEach(() => vi.restoreAllMocks());

  it("uses Wasm SIMD in Node, and says so", () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(loadBestKernels({}).name).toBe("wasm-simd");
    expect(bestKernels(kernelsModule()).name).toBe("wasm-simd");
  });

  it("falls back to the TS kernels where SIMD is missing, when there is no module, or when asked", () => {
    expect(bestKernels(null)).toBe(tsKernels);
    expect(loadBestKernels({ EDGE_CNN_KERNELS: "ts" })).toBe(tsKernels);
    vi.spyOn(WebAssembly, "validate").mockReturnValue(false);
    expect(wasmSimdSupported()).toBe(false);
    expect(loadBestKernels({})).toBe(tsKernels);
    expect(bestKernels(kernelsModule())).toBe(tsKernels);
  });

  it("gives every caller its own instance (separate memories)", () => {
    const a = createWasmKernels(kernelsModule()), b = createWasmKernels(kernelsModule());
    expect(a).not.toBe(b);
  });
});

describe("a network on the Wasm kernels", () => {
  it("gives the TS kernels' logits at batch 1 and 7 and after the memory has grown for a larger batch", () => {
    const ts = new Network(seedCnn(10), { seed: 1 });
    heInit(ts.params, 4);
    const wasm = new Network(seedCnn(10), { seed: 1, kernels: loadBestKernels({}) });
    wasm.params.forEach((p, i) => p.data.set(ts.params[i].data));
    const rng = new Rng(9);
    const x = new Float32Array(40 * 3072).map(() => rng.uniform());
    for (const n of [1, 7, 40, 1]) {
      const a = ts.forward(x, n), b = wasm.forward(x, n);
      for (let i = 0; i < n * 10; i++) expect(Math.abs(a[i] - b[i]), `n=${n} logit ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(a[i])));
    }
  });
});

describe("Network.freeze (inference with the weights kept in Wasm memory)", () => {
  const make = (kernels = loadBestKernels({}), seed = 4) => {
    const net = new Network(seedCnn(10), { seed: 1, kernels });
    heInit(net.params, seed);
    return net;
  };
  const input = (n: number) => {
    const rng = new Rng(9);
    return new Float32Array(n * 3072).map(() => rng.uniform());
  };

  it("gives the same logits as before freezing, call after call, and across memory growth", () => {
    const net = make(), x = input(64);
    const before1 = net.forward(x, 1).slice(), before64 = net.forward(x, 64).slice();
    const weights = net.params.map((p) => p.data.slice());
    net.freeze();
    expect(net.frozen).toBe(true);
    for (let r = 0; r < 3; r++) expect(Array.from(net.forward(x, 1))).toEqual(Array.from(before1));
    // A larger batch than ever before grows the memory; the frozen weights follow (p.data re-pointed).
    const big = input(200);
    net.forward(big, 200);
    expect(Array.from(net.forward(x, 64))).toEqual(Array.from(before64));
    net.params.forEach((p, i) => expect(Array.from(p.data), p.name).toEqual(Array.from(weights[i])));
  });

  it("keeps each frozen network's weights when several share one kernels instance", () => {
    const kernels = loadBestKernels({}), x = input(2);
    const a = make(kernels, 1), b = make(kernels, 2);
    const wantA = a.forward(x, 2).slice(), wantB = b.forward(x, 2).slice();
    a.freeze();
    b.freeze(); // grows the memory a's weights live in
    expect(Array.from(a.forward(x, 2))).toEqual(Array.from(wantA));
    expect(Array.from(b.forward(x, 2))).toEqual(Array.from(wantB));
  });

  it("refuses to train a frozen network, with either kernels", () => {
    for (const kernels of [tsKernels, loadBestKernels({})]) {
      const net = make(kernels);
      net.forward(input(1), 1, true);
      net.freeze();
      expect(() => net.backward(new Float32Array(10), 1)).toThrow("frozen for inference");
    }
  });
});
