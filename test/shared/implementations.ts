// Every kernel implementation the conformance suite and the gradient checks run on: the TS reference
// first, then the Wasm SIMD kernels built from shared/kernels/wasm (the committed .wasm, which
// wasm-build.test.ts proves is its source's build).

import { tsKernels, type Kernels } from "../../shared/index.ts";
import { loadWasmKernels } from "../../trainer/kernels-node.ts";

export const IMPLEMENTATIONS: Kernels[] = [tsKernels, loadWasmKernels()];
