// The best kernels available to Node: the Wasm SIMD kernels built from shared/kernels/wasm (read from
// disk and compiled once per process) where Wasm SIMD is there, else the TS reference. `kernels.name`
// says which ("wasm-simd" or "ts"); EDGE_CNN_KERNELS=ts forces the reference (for comparisons).

import { readFileSync } from "node:fs";
import { bestKernels, createWasmKernels, tsKernels, wasmSimdSupported, type Kernels } from "../shared/index.ts";

export const KERNELS_WASM_URL = new URL("../shared/kernels/wasm/kernels.wasm", import.meta.url);

let compiled: WebAssembly.Module | null = null;

/** The compiled kernels module (read and compiled on first use). */
export function kernelsModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(KERNELS_WASM_URL));
  return compiled;
}

/** Fresh Wasm SIMD kernels (a new instance with its own memory). Throws where Wasm SIMD is missing. */
export function loadWasmKernels(): Kernels {
  return createWasmKernels(kernelsModule());
}

/**
 * The fastest kernels this process can run: Wasm SIMD, or the TS reference where SIMD is missing or
 * EDGE_CNN_KERNELS=ts. Each call returns a new Wasm instance, so two networks never share one memory.
 */
export function loadBestKernels(env: Record<string, string | undefined> = process.env): Kernels {
  if (env.EDGE_CNN_KERNELS === "ts" || !wasmSimdSupported()) return tsKernels;
  return bestKernels(kernelsModule());
}

/** The name of the kernels loadBestKernels() gives, without instantiating them (for messages and metadata). */
export function bestKernelsName(env: Record<string, string | undefined> = process.env): string {
  return env.EDGE_CNN_KERNELS === "ts" || !wasmSimdSupported() ? tsKernels.name : "wasm-simd";
}
