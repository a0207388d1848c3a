// JPEG bytes -> upright pixels for a model, the one way the trainer, the Worker and the widget do it:
// refuse a cut-off file, and a multi-scan one whose coefficients would not fit the memory budget;
// decode at the scale the shared rule picks from the header (leaving out the progressive scans that
// scale never reads); check the result has the size the header promised; apply the EXIF orientation.

import { applyOrientation } from "../exif-orientation.ts";
import { jpegHasEndMarker, type ImageHeader } from "../image-header.ts";
import type { Pixels } from "../preprocess.ts";
import { JpegDecodeError, type JpegDecoder } from "./jpeg.ts";
import { coefficientBytes, readJpegFrame, withoutUnusedScans } from "./jpeg-scans.ts";
import { decodeScaleDenom, scaledSize } from "./scale.ts";

/** Why a JPEG could not be decoded; `kind` lets each caller phrase it for its users. */
export class JpegDataError extends Error {
  override name = "JpegDataError";
  constructor(readonly kind: "truncated" | "corrupt" | "inconsistent" | "too_large", message: string) {
    super(message);
  }
}

/**
 * Most coefficient memory a multi-scan (progressive, or a scan per component) JPEG may need: the
 * decoder holds all its blocks, 10 bytes each where the scale's inverse DCT is 1x1, 58 where it is
 * 2x2, 128 otherwise (jpeg-scans.ts, `coefficientBytes`). At the 1/8 decode of any photo over a few
 * megapixels that is about 0.6 bytes per pixel in 4:2:0 and 0.5 in 4:4:4 (30 MiB for 50 MP), so 40 MiB
 * admits every such photo up to MAX_PIXELS and keeps several concurrent decodes within a Worker's
 * 128 MB; it refuses only rare layouts (4:1:1 chroma keeps whole blocks) near the pixel limit.
 */
export const MAX_COEFFICIENT_BYTES = 40 * 1024 * 1024;

/** Decodes a JPEG whose header has been read (and its size checked) for a model with input `size`. */
export function decodeJpegForModel(bytes: Uint8Array, header: ImageHeader, size: readonly [number, number], jpeg: JpegDecoder): Pixels {
  // libjpeg only warns about a cut-off JPEG and fills the rest with grey; we refuse it.
  if (!jpegHasEndMarker(bytes)) throw new JpegDataError("truncated", "its data stops before the end-of-image marker");
  const frame = readJpegFrame(bytes);
  const denom = decodeScaleDenom(header.width, header.height, size);
  const coefficients = frame ? coefficientBytes(frame, denom) : 0;
  if (coefficients > MAX_COEFFICIENT_BYTES) {
    const kind = frame!.progressive ? "progressive" : "multi-scan";
    throw new JpegDataError("too_large", `it is a ${kind} JPEG of ${header.width}x${header.height}, whose decoding needs ${Math.ceil(coefficients / 2 ** 20)} MiB, over the ${MAX_COEFFICIENT_BYTES / 2 ** 20} MiB limit; save it as a baseline JPEG or downscale it`);
  }
  let pixels: Pixels;
  try {
    pixels = jpeg.decode(frame ? withoutUnusedScans(bytes, frame, denom) : bytes, denom);
  } catch (e) {
    if (e instanceof JpegDecodeError) {
      // libjpeg's JERR_OUT_OF_MEMORY: the decoder's 128 MiB cap, not damaged data.
      if (/insufficient memory|out of memory/i.test(e.message)) throw new JpegDataError("too_large", `decoding it needs more memory than the decoder's 128 MiB (${e.message})`);
      throw new JpegDataError("corrupt", e.message);
    }
    throw e;
  }
  const want = scaledSize(header.width, header.height, denom);
  if (pixels.width !== want.width || pixels.height !== want.height) {
    throw new JpegDataError("inconsistent", `its header says ${header.width}x${header.height} (${want.width}x${want.height} at 1/${denom}) but it decodes to ${pixels.width}x${pixels.height}`);
  }
  return applyOrientation(pixels, header.orientation);
}
