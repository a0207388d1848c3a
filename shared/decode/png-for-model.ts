// PNG bytes -> upright pixels for a model, the one way the trainer, the Worker and the widget do it:
// streamed and box-reduced at the scale the shared rule picks from the header, then the eXIf
// orientation applied.

import { applyOrientation } from "../exif-orientation.ts";
import type { ImageHeader } from "../image-header.ts";
import type { Pixels } from "../preprocess.ts";
import { decodePng } from "./png.ts";
import { decodeScaleDenom } from "./scale.ts";

/** Decodes a PNG whose header has been read (and its size checked) for a model with input `size`. */
export async function decodePngForModel(bytes: Uint8Array, header: ImageHeader, size: readonly [number, number]): Promise<Pixels> {
  const pixels = await decodePng(bytes, decodeScaleDenom(header.width, header.height, size));
  return applyOrientation(pixels, header.orientation);
}
