// Image bytes -> upright Pixels, the way the trainer does it: JPEG, PNG and WebP go through the shared
// decoders (shared/decode: libjpeg-turbo and libwebp in Wasm, a streaming PNG decoder) at the scale
// the shared rule picks for the model's input, so a 12 MP photo decodes to about 500x380 pixels
// without ever existing at full size. Then the EXIF orientation is applied; alpha is kept
// (shared/preprocess flattens it), greyscale stays one channel. Damaged data is an ImageDecodeError
// with a message for the client; an image too large to decode here an ApiError 422.

import { JpegDecoder } from "../shared/decode/jpeg.ts";
import { decodeJpegForModel, JpegDataError } from "../shared/decode/jpeg-for-model.ts";
import jpegModule from "../shared/decode/jpeg.wasm";
import { decodePngForModel, decodePngStreamForModel } from "../shared/decode/png-for-model.ts";
import { PngDecodeError } from "../shared/decode/png.ts";
import { decodeScaleDenom, scaledSize } from "../shared/decode/scale.ts";
import { decodeWebpForModel } from "../shared/decode/webp-for-model.ts";
import { WebpDecodeError, WebpDecoder } from "../shared/decode/webp.ts";
import webpModule from "../shared/decode/webp.wasm";
import type { ImageHeader } from "../shared/image-header.ts";
import type { Pixels } from "../shared/preprocess.ts";
import { ApiError } from "./errors.ts";

export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

/**
 * Most pixels a decode may produce. The scale rule keeps photos far below it (50 MP at 1/8 is 0.8 MP);
 * only an extreme panorama (short side under 256, so no reduction) comes near, and above it gets a
 * 422 instead of exhausting the isolate's memory.
 */
export const MAX_DECODED_PIXELS = 8_000_000;

/** One of each per isolate; each replaces its own Wasm instance after a failure or a large decode. */
const jpeg = new JpegDecoder(jpegModule);
const webp = new WebpDecoder(webpModule);

/** Decodes an image whose header has already been read (and its size checked) for a model of input `size`. */
export async function decodeImage(bytes: Uint8Array, header: ImageHeader, size: readonly [number, number]): Promise<Pixels> {
  checkDecodedSize(header, size);
  const { format, width, height } = header;
  if (format === "PNG") return pngErrors(() => decodePngForModel(bytes, header, size));
  if (format === "JPEG") {
    try {
      return decodeJpegForModel(bytes, header, size, jpeg);
    } catch (e) {
      if (!(e instanceof JpegDataError)) throw e;
      if (e.kind === "truncated") throw new ImageDecodeError("The JPEG image is truncated (its data stops before the end-of-image marker). Send the complete file.");
      if (e.kind === "too_large") throw new ApiError(422, "image_too_large", `The JPEG image is too large for this server: ${e.message}.`);
      if (e.kind === "inconsistent") throw new ImageDecodeError(`The JPEG image is inconsistent: ${e.message}.`);
      throw new ImageDecodeError(`The JPEG image is corrupt and cannot be decoded (${e.message}). Send an intact file.`);
    }
  }
  try {
    return decodeWebpForModel(bytes, header, size, webp);
  } catch (e) {
    if (!(e instanceof WebpDecodeError)) throw e;
    // A lossless WebP is decoded whole inside libwebp (4 bytes per pixel): the 128 MiB cap can be hit.
    if (/out of memory/.test(e.message)) throw new ApiError(422, "image_too_large", `The WebP image (${width}x${height}) is too large to decode here (${e.message}). Downscale it, or send a JPEG.`);
    throw new ImageDecodeError(`The WebP image is corrupt and cannot be decoded (${e.message}). Send an intact file.`);
  }
}

/**
 * A PNG from its bytes as they arrive (an upload being received), header already read from its first
 * bytes: the same pixels as decodeImage on the whole file, without ever holding the file whole.
 */
export async function decodePngUpload(source: AsyncIterable<Uint8Array>, header: ImageHeader, size: readonly [number, number]): Promise<Pixels> {
  checkDecodedSize(header, size);
  return pngErrors(() => decodePngStreamForModel(source, header, size));
}

function checkDecodedSize(header: ImageHeader, size: readonly [number, number]): void {
  const { format, width, height } = header;
  const decoded = scaledSize(width, height, decodeScaleDenom(width, height, size));
  if (decoded.width * decoded.height > MAX_DECODED_PIXELS) {
    throw new ApiError(422, "image_too_large",
      `The ${format} image is ${width}x${height}; this server would decode it to ${decoded.width}x${decoded.height} pixels, over its limit of ` +
      `${MAX_DECODED_PIXELS / 1e6} megapixels (its short side is too small to decode it reduced). Crop or downscale it.`);
  }
}

async function pngErrors(decode: () => Promise<Pixels>): Promise<Pixels> {
  try {
    return await decode();
  } catch (e) {
    if (e instanceof PngDecodeError) throw new ImageDecodeError(`The PNG image is corrupt and cannot be decoded (${e.message}). Send an intact file.`);
    throw e;
  }
}
