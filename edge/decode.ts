// Image bytes -> upright Pixels, the way the trainer does it. JPEG goes through the shared decoder
// (libjpeg-turbo in Wasm, shared/decode) at the scale the shared rule picks for the model's input, so
// a 12 MP photo decodes to about 500x380 pixels without ever existing at full size. PNG and WebP
// are decoded at full size by the jsquash codecs (edge/codecs.ts): EXIF orientation applied, alpha
// kept (shared/preprocess flattens it), greyscale as R = G = B (toRgb gives the same bytes as for
// sharp's one grey channel). Damaged data is an ImageDecodeError with a message for the client.

import { JpegDecoder } from "../shared/decode/jpeg.ts";
import { decodeJpegForModel, JpegDataError } from "../shared/decode/jpeg-for-model.ts";
import jpegModule from "../shared/decode/jpeg.wasm";
import { applyOrientation } from "../shared/exif-orientation.ts";
import type { ImageHeader } from "../shared/image-header.ts";
import type { Pixels } from "../shared/preprocess.ts";
import { CodecError, decodeRgba, type Rgba } from "./codecs.ts";
import { ApiError } from "./errors.ts";

export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

/** One per isolate; it replaces its own Wasm instance after a failure or a large decode. */
const jpeg = new JpegDecoder(jpegModule);

/** Decodes an image whose header has already been read (and its size checked) for a model of input `size`. */
export async function decodeImage(bytes: Uint8Array, header: ImageHeader, size: readonly [number, number]): Promise<Pixels> {
  const { format, width, height, orientation } = header;
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
  let rgba: Rgba;
  try {
    rgba = await decodeRgba(format, bytes);
  } catch (e) {
    if (e instanceof CodecError) throw new ImageDecodeError(`The ${format} image is corrupt and cannot be decoded (${e.message}). Send an intact file.`);
    throw e;
  }
  if (rgba.width !== width || rgba.height !== height) {
    throw new ImageDecodeError(`The ${format} image is inconsistent: its header says ${width}x${height} but it decodes to ${rgba.width}x${rgba.height}.`);
  }
  return applyOrientation({ width, height, channels: 4, data: rgba.data }, orientation);
}
