// Image bytes -> upright Pixels, the way the trainer's sharp decoder does it: EXIF orientation applied,
// alpha kept (shared/preprocess flattens it), greyscale as R = G = B (toRgb gives the same bytes as
// for sharp's one grey channel). Damaged data is an ImageDecodeError with a message for the client.

import { applyOrientation } from "../shared/exif-orientation.ts";
import { jpegHasEndMarker, type ImageHeader } from "../shared/image-header.ts";
import type { Pixels } from "../shared/preprocess.ts";
import { CodecError, decodeRgba, type Rgba } from "./codecs.ts";

export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

/** Decodes an image whose header has already been read (and its size checked). */
export async function decodeImage(bytes: Uint8Array, header: ImageHeader): Promise<Pixels> {
  const { format, width, height, orientation } = header;
  // libjpeg only warns about a cut-off JPEG and fills the rest with grey; sharp (failOn "error")
  // refuses it, and so do we.
  if (format === "JPEG" && !jpegHasEndMarker(bytes)) {
    throw new ImageDecodeError("The JPEG image is truncated (its data stops before the end-of-image marker). Send the complete file.");
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
