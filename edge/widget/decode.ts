// The widget's decoding, for both modes: JPEG, PNG and WebP with the shared decoders (libjpeg-turbo
// and libwebp in Wasm, fetched once from the Worker at /widget/jpeg.wasm and /widget/webp.wasm; the
// streaming PNG decoder) at the shared scale, so the browser gets the trainer's and the Worker's
// pixels bit for bit. Other formats (GIF, AVIF, ... which the Worker refuses), or a browser without
// WebAssembly, fall back to the browser's own decoder (createImageBitmap).

import { JpegDecoder } from "../../shared/decode/jpeg.ts";
import { decodeJpegForModel, JpegDataError } from "../../shared/decode/jpeg-for-model.ts";
import { decodePngForModel } from "../../shared/decode/png-for-model.ts";
import { PngDecodeError } from "../../shared/decode/png.ts";
import { decodeWebpForModel } from "../../shared/decode/webp-for-model.ts";
import { WebpDecodeError, WebpDecoder } from "../../shared/decode/webp.ts";
import { ImageHeaderError, readImageHeader } from "../../shared/image-header.ts";
import type { Pixels, PreprocessSpec } from "../../shared/preprocess.ts";

/** A message for the visitor; classifier.ts turns it into a WidgetError. */
export class DecodeFailure extends Error {
  override name = "DecodeFailure";
}

const modules = new Map<string, Promise<WebAssembly.Module | null>>();

/** A shared decoder's module from `endpoint`, compiled once per page; null where it cannot be had. */
function decoderModule(endpoint: string, name: "jpeg" | "webp"): Promise<WebAssembly.Module | null> {
  const url = `${endpoint}/widget/${name}.wasm`;
  let module = modules.get(url);
  if (!module) {
    module = fetch(url).then(async (res) => (res.ok ? WebAssembly.compile(await res.arrayBuffer()) : null)).catch(() => null);
    modules.set(url, module);
  }
  return module;
}

let jpeg: JpegDecoder | undefined, webp: WebpDecoder | undefined;

/**
 * Decodes `file` for a model with preprocessing `spec`, upright; `browserDecode` is the fallback.
 * Throws DecodeFailure for a damaged JPEG or PNG.
 */
export async function decodeForModel(endpoint: string, file: Blob, spec: PreprocessSpec, browserDecode: (file: Blob) => Promise<Pixels>): Promise<Pixels> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let header;
  try {
    header = readImageHeader(bytes);
  } catch (e) {
    if (e instanceof ImageHeaderError) throw new DecodeFailure(`This image is damaged: ${e.message}.`);
    throw e;
  }
  try {
    if (header?.format === "PNG") return await decodePngForModel(bytes, header, spec.size);
    if (header?.format === "JPEG") {
      const module = await decoderModule(endpoint, "jpeg");
      if (module) return decodeJpegForModel(bytes, header, spec.size, (jpeg ??= new JpegDecoder(module)));
    }
    if (header?.format === "WebP" && !header.animated) {
      const module = await decoderModule(endpoint, "webp");
      if (module) return decodeWebpForModel(bytes, header, spec.size, (webp ??= new WebpDecoder(module)));
    }
  } catch (e) {
    if (e instanceof JpegDataError || e instanceof PngDecodeError || e instanceof WebpDecodeError) throw new DecodeFailure(`This image is damaged or too large to decode (${e.message}).`);
    throw e;
  }
  return browserDecode(file);
}
