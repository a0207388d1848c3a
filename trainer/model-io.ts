// Reading and writing model files on disk, with errors that name the file.

import { readFileSync } from "node:fs";
import { loadNetwork, ModelFormatError, type LoadedNetwork } from "../shared/model-file.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { loadBestKernels } from "./kernels-node.ts";

export class ModelFileError extends Error {
  override name = "ModelFileError";
}

/** Reads and decodes a model file; `fold: false` keeps batchnorm layers (to re-encode or train further). */
export function readModelFile(path: string, options: { fold?: boolean } = {}): LoadedNetwork & { bytes: Uint8Array } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFileError(`cannot read model ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message}`);
  }
  try {
    return { ...loadNetwork(bytes, { kernels: loadBestKernels(), fold: options.fold }), bytes };
  } catch (e) {
    if (e instanceof ModelFormatError) throw new ModelFileError(`${path}: ${e.message}`);
    throw e;
  }
}

export function writeModelFile(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, bytes);
}
