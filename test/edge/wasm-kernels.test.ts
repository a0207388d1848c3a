// The committed Wasm SIMD kernels inside workerd, imported as a compiled module (workerd refuses to
// compile Wasm from bytes), agree with the TS reference, frozen or not, and can train.
import { expect, it } from "vitest";
import kernelsModule from "../../shared/kernels/wasm/kernels.wasm";
import { bestKernels, heInit, Network, Rng, seedCnn, tsKernels, wasmSimdSupported } from "../../shared/index.ts";

it("runs the committed kernels.wasm in workerd, imported as a compiled module", () => {
  expect(navigator.userAgent).toBe("Cloudflare-Workers");
  expect(kernelsModule).toBeInstanceOf(WebAssembly.Module);
  expect(wasmSimdSupported()).toBe(true);
  const kernels = bestKernels(kernelsModule);
  expect(kernels.name).toBe("wasm-simd");
  const a = new Network(seedCnn(10), { seed: 1 }), b = new Network(seedCnn(10), { seed: 1, kernels });
  heInit(a.params, 3); heInit(b.params, 3);
  const rng = new Rng(2), x = new Float32Array(4 * 3072).map(() => rng.uniform());
  const la = a.forward(x, 4).slice(), lb = b.forward(x, 4).slice();
  for (let i = 0; i < la.length; i++) expect(Math.abs(la[i] - lb[i])).toBeLessThan(1e-4);
  b.freeze();
  const lc = b.forward(x, 4);
  for (let i = 0; i < la.length; i++) expect(Math.abs(la[i] - lc[i])).toBeLessThan(1e-4);
  // training step with dropout on wasm
  const c = new Network(seedCnn(10), { seed: 1, kernels: bestKernels(kernelsModule) });
  heInit(c.params, 3);
  c.forward(x, 4, true); c.backward(new Float32Array(40).fill(0.1), 4);
  expect(tsKernels.name).toBe("ts");


});
