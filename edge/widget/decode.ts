// The widget's decoding, for both modes: JPEG and PNG with the shared decoders (libjpeg-turbo in
// Wasm, fetched once from the Worker at /widget/jpeg.wasm; the streaming PNG decoder) at the shared
// scale, so the browser gets the trainer's and the Worker's pixels bit for bit. Other formats, or a
// browser without WebAssembly, fall back to the browser's own decoder (createImageBitmap), whose
// pixels may differ slightly (its JPEG IDCT, colour management).

import { JpegDecoder } from "../../shared/decode/jpeg.ts";
import { decodeJpegForModel, JpegDataError } from "../../shared/decode/jpeg-for-model.ts";
import { decodePngForModel } from "../../shared/decode/png-for-model.ts";
import { PngDecodeError } from "../../shared/decode/png.ts";
import { ImageHeaderError, readImageHeader } from "../../shared/image-header.ts";
import type { Pixels, PreprocessSpec } from "../../shared/preprocess.ts";

/** A message for the visitor; classifier.ts turns it into a WidgetError. */
export class DecodeFailure extends Error {
  override name = "DecodeFailure";
}

const jpegDecoders = new Map<string, Promise<JpegDecoder | null>>();

/** The shared JPEG decoder from `endpoint`, compiled once per page; null where it cannot be had. */
function jpegDecoder(endpoint: string): Promise<JpegDecoder | null> {
  let decoder = jpegDecoders.get(endpoint);
  if (!decoder) {
    decoder = fetch(`${endpoint}/widget/jpeg.wasm`)
      .then(async (res) => (res.ok ? new JpegDecoder(await WebAssembly.compile(await res.arrayBuffer())) : null))
      .catch(() => null);
    jpegDecoders.set(endpoint, decoder);
  }
  return decoder;
}

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
      const jpeg = await jpegDecoder(endpoint);
      if (jpeg) return decodeJpegForModel(bytes, header, spec.size, jpeg);
    }
  } catch (e) {
    if (e instanceof JpegDataError || e instanceof PngDecodeError) throw new DecodeFailure(`This image is damaged or too large to decode (${e.message}).`);
    throw e;
  }
  return browserDecode(file);
}
