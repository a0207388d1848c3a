// The shared image decoders for Node: shared/decode/jpeg.wasm read from disk and compiled once per
// process, one decoder instance per process (decoding is synchronous, so calls never interleave).

import { readFileSync } from "node:fs";
import { JpegDecoder } from "../shared/decode/jpeg.ts";

export const JPEG_WASM_URL = new URL("../shared/decode/jpeg.wasm", import.meta.url);

let jpeg: JpegDecoder | undefined;

/** The process's JPEG decoder (the same Wasm build the Worker and the widget run). */
export function jpegDecoder(): JpegDecoder {
  jpeg ??= new JpegDecoder(new WebAssembly.Module(readFileSync(JPEG_WASM_URL)));
  return jpeg;
}
