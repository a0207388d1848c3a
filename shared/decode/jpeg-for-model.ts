// JPEG bytes -> upright pixels for a model, the one way the trainer, the Worker and the widget do it:
// refuse a cut-off file, decode at the scale the shared rule picks from the header, check the result
// has the size the header promised, apply the EXIF orientation.

import { applyOrientation } from "../exif-orientation.ts";
import { jpegHasEndMarker, type ImageHeader } from "../image-header.ts";
import type { Pixels } from "../preprocess.ts";
import { JpegDecodeError, type JpegDecoder } from "./jpeg.ts";
import { decodeScaleDenom, scaledSize } from "./scale.ts";

/** Why a JPEG could not be decoded; `kind` lets each caller phrase it for its users. */
export class JpegDataError extends Error {
  override name = "JpegDataError";
  constructor(readonly kind: "truncated" | "corrupt" | "inconsistent", message: string) {
    super(message);
  }
}

/** Decodes a JPEG whose header has been read (and its size checked) for a model with input `size`. */
export function decodeJpegForModel(bytes: Uint8Array, header: ImageHeader, size: readonly [number, number], jpeg: JpegDecoder): Pixels {
  // libjpeg only warns about a cut-off JPEG and fills the rest with grey; we refuse it.
  if (!jpegHasEndMarker(bytes)) throw new JpegDataError("truncated", "its data stops before the end-of-image marker");
  const denom = decodeScaleDenom(header.width, header.height, size);
  let pixels: Pixels;
  try {
    pixels = jpeg.decode(bytes, denom);
  } catch (e) {
    if (e instanceof JpegDecodeError) throw new JpegDataError("corrupt", e.message);
    throw e;
  }
  const want = scaledSize(header.width, header.height, denom);
  if (pixels.width !== want.width || pixels.height !== want.height) {
    throw new JpegDataError("inconsistent", `its header says ${header.width}x${header.height} (${want.width}x${want.height} at 1/${denom}) but it decodes to ${pixels.width}x${pixels.height}`);
  }
  return applyOrientation(pixels, header.orientation);
}
