// WebP bytes -> upright pixels for a model, the one way the trainer, the Worker and the widget do it:
// decoded (and scaled by libwebp's rescaler) at the scale the shared rule picks from the header,
// then the EXIF orientation applied.

import { applyOrientation } from "../exif-orientation.ts";
import type { ImageHeader } from "../image-header.ts";
import type { Pixels } from "../preprocess.ts";
import { WebpDecodeError, type WebpDecoder } from "./webp.ts";
import { decodeScaleDenom, scaledSize } from "./scale.ts";

/** Decodes a WebP whose header has been read (and its size checked) for a model with input `size`. */
export function decodeWebpForModel(bytes: Uint8Array, header: ImageHeader, size: readonly [number, number], webp: WebpDecoder): Pixels {
  const denom = decodeScaleDenom(header.width, header.height, size);
  const pixels = webp.decode(bytes, denom);
  const want = scaledSize(header.width, header.height, denom);
  if (pixels.width !== want.width || pixels.height !== want.height) {
    throw new WebpDecodeError(`its header says ${header.width}x${header.height} but it decodes to ${pixels.width}x${pixels.height} at 1/${denom}`);
  }
  return applyOrientation(pixels, header.orientation);
}
