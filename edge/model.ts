// The served model: the bundled model file, decoded, checked and hashed once per isolate (on the
// first request, so a bad file fails loudly there, and in the tests, with the ModelFormatError
// message), then reused by every request.

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
  return () => (loaded ??= load(file));
}

async function load(file: ArrayBuffer | Uint8Array): Promise<ServedModel> {
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(file);
  // Wasm SIMD kernels where the runtime has them (workerd does), else the TS reference; then the
  // weights are frozen into Wasm memory once, so a request copies only its own pixels.
  const { net, meta, dtype, spec } = loadNetwork(bytes, { kernels: bestKernels(kernelsModule) }); // throws ModelFormatError naming the problem
  net.freeze();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { net, meta, dtype, spec, parameters: net.parameterCount, sha256, bytes };
}
