// PNG bytes -> upright pixels for a model, the one way the trainer, the Worker and the widget do it:
// streamed and box-reduced at the scale the shared rule picks from the header, then the eXIf
// orientation applied. The Worker feeds its uploads in as they arrive (decodePngStreamForModel).

import { applyOrientation, readExifOrientation } from "../exif-orientation.ts";
import type { ImageHeader } from "../image-header.ts";
import type { Pixels } from "../preprocess.ts";
import { decodePng, decodePngStream } from "./png.ts";
import { decodeScaleDenom } from "./scale.ts";

/** Decodes a PNG whose header has been read (and its size checked) for a model with input `size`. */
export async function decodePngForModel(bytes: Uint8Array, header: ImageHeader, size: readonly [number, number]): Promise<Pixels> {
  const pixels = await decodePng(bytes, decodeScaleDenom(header.width, header.height, size));
  return applyOrientation(pixels, header.orientation);
}

/**
 * The same from the bytes as they arrive (the Worker's PNG uploads): `header` read from the first
 * bytes, the orientation from the first eXIf chunk wherever it comes (as the header reader finds it in
 * a whole file), so the pixels are the same as decodePngForModel's on the whole file.
 */
export async function decodePngStreamForModel(source: AsyncIterable<Uint8Array>, header: ImageHeader, size: readonly [number, number]): Promise<Pixels> {
  const { pixels, exif } = await decodePngStream(source, decodeScaleDenom(header.width, header.height, size));
  return applyOrientation(pixels, exif ? readExifOrientation(exif) : 1);
}
