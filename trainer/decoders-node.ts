// The shared image decoders for Node: shared/decode/jpeg.wasm and webp.wasm read from disk and
// compiled once per process, one decoder instance each (decoding is synchronous, so calls never
// interleave).

import { readFileSync } from "node:fs";
import { JpegDecoder } from "../shared/decode/jpeg.ts";
import { WebpDecoder } from "../shared/decode/webp.ts";

export const JPEG_WASM_URL = new URL("../shared/decode/jpeg.wasm", import.meta.url);
export const WEBP_WASM_URL = new URL("../shared/decode/webp.wasm", import.meta.url);

let jpeg: JpegDecoder | undefined, webp: WebpDecoder | undefined;

/** The process's JPEG decoder (the same Wasm build the Worker and the widget run). */
export function jpegDecoder(): JpegDecoder {
  jpeg ??= new JpegDecoder(new WebAssembly.Module(readFileSync(JPEG_WASM_URL)));
  return jpeg;
}

/** The process's WebP decoder (the same Wasm build the Worker and the widget run). */
export function webpDecoder(): WebpDecoder {
  webp ??= new WebpDecoder(new WebAssembly.Module(readFileSync(WEBP_WASM_URL)));
  return webp;
}
