// A served model: a model file (bundled or from R2), decoded, checked and hashed once per isolate (on
// the first request that needs it, so a bad file fails loudly there, and in the tests, with the
// ModelFormatError message), then reused by every request until the model cache evicts it.

import kernelsModule from "../shared/kernels/wasm/kernels.wasm";
import { bestKernels, loadNetwork, type ArchSpec, type ModelDtype, type ModelMeta, type Network } from "../shared/index.ts";

export interface ServedModel {
  net: Network;
  meta: ModelMeta;
  dtype: ModelDtype;
  spec: ArchSpec;
  parameters: number;
  /** Hex SHA-256 of the file: the model's identity in responses and the model.bin ETag. */
  sha256: string;
  /** The file itself, served by GET /v1/model.bin. */
  bytes: Uint8Array;
}

/** Returns a function that loads the model on first call and then returns the same result (or error). */
export function modelLoader(file: ArrayBuffer | Uint8Array): () => Promise<ServedModel> {
  let loaded: Promise<ServedModel> | undefined;
  return () => (loaded ??= decodeServedModel(file));
}

/** Decodes, checks and hashes a model file; throws ModelFormatError naming the problem. */
export async function decodeServedModel(file: ArrayBuffer | Uint8Array): Promise<ServedModel> {
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(file);
  // Wasm SIMD kernels where the runtime has them (workerd does), else the TS reference; then the
  // weights are frozen into Wasm memory once, so a request copies only its own pixels.
  const { net, meta, dtype, spec } = loadNetwork(bytes, { kernels: bestKernels(kernelsModule) }); // throws ModelFormatError naming the problem
  net.freeze();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { net, meta, dtype, spec, parameters: net.parameterCount, sha256, bytes };
}

/**
 * Roughly what a decoded model holds in the isolate's memory: the file, the weights as f32 in JS, the
 * frozen copy (and prepared filters) in its own Wasm instance, plus that instance's workspace. An
 * overestimate on purpose: the model cache uses it to stay well inside a Worker's 128 MB.
 */
export function servedModelBytes(m: ServedModel): number {
  return m.bytes.length + m.parameters * 12 + 1024 * 1024;
}
