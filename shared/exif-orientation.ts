// EXIF orientation: cameras store pixels as the sensor saw them and record in a tag how to turn them
// upright. sharp's autoOrient (the trainer) honours the tag, so every other decoder must too, or a
// phone photo is classified lying on its side. Pure code over bytes and Pixels, so the Worker and the
// browser do exactly what the trainer does, and a test can check it against sharp.

import type { Pixels } from "./preprocess.ts";

/** EXIF orientation 1..8 (1 = upright). The values are the TIFF tag's own. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

const ORIENTATION_TAG = 0x0112;
const SHORT = 3;

/**
 * Reads the orientation tag from an EXIF block (a TIFF structure, optionally preceded by the
 * "Exif\0\0" marker). Returns 1 when there is no tag or the block is damaged: like libexif, a bad
 * tag is ignored rather than refusing the image.
 */
export function readExifOrientation(exif: Uint8Array): Orientation {
  let tiff = exif;
  if (startsWith(tiff, [0x45, 0x78, 0x69, 0x66, 0, 0])) tiff = tiff.subarray(6); // "Exif\0\0"
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49; // "II"
  const big = tiff[0] === 0x4d && tiff[1] === 0x4d; // "MM"
  if (!little && !big) return 1;
  const dv = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (dv.getUint16(2, little) !== 42) return 1;
  const ifd0 = dv.getUint32(4, little);
  if (ifd0 < 8 || ifd0 + 2 > tiff.length) return 1;
  const count = dv.getUint16(ifd0, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + 12 * i;
    if (entry + 12 > tiff.length) return 1;
    if (dv.getUint16(entry, little) !== ORIENTATION_TAG) continue;
    if (dv.getUint16(entry + 2, little) !== SHORT || dv.getUint32(entry + 4, little) < 1) return 1;
    const value = dv.getUint16(entry + 8, little); // a single SHORT sits in the first 2 value bytes
    return value >= 1 && value <= 8 ? (value as Orientation) : 1;
  }
  return 1;
}

/**
 * Turns decoded pixels upright according to `orientation` (any channel count). Orientations 5..8
 * swap width and height. Returns `img` itself for orientation 1.
 */
export function applyOrientation(img: Pixels, orientation: Orientation): Pixels {
  if (orientation === 1) return img;
  const { width: W, height: H, channels: C, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? H : W, oh = swap ? W : H;
  // The source pixel of output pixel (x, y), as the EXIF specification defines each orientation:
  // sx = x0 + sxx * x + sxy * y and sy = y0 + syx * x + syy * y.
  const [x0, sxx, sxy, y0, syx, syy] = ({
    2: [W - 1, -1, 0, 0, 0, 1], // mirrored left-right
    3: [W - 1, -1, 0, H - 1, 0, -1], // rotated 180
    4: [0, 1, 0, H - 1, 0, -1], // mirrored top-bottom
    5: [0, 0, 1, 0, 1, 0], // transposed
    6: [0, 0, 1, H - 1, -1, 0], // needs 90 degrees clockwise
    7: [W - 1, 0, -1, H - 1, -1, 0], // transversed
    8: [W - 1, 0, -1, 0, 1, 0], // needs 90 degrees counter-clockwise
  } as const)[orientation];
  // In flat pixel indices: one step in x or y moves the source by a fixed amount.
  const stepX = (syx * W + sxx) * C, stepY = (syy * W + sxy) * C, start = (y0 * W + x0) * C;
  const out = new Uint8Array(W * H * C);
  let o = 0;
  for (let y = 0; y < oh; y++) {
    let s = start + y * stepY;
    for (let x = 0; x < ow; x++, s += stepX) {
      for (let c = 0; c < C; c++) out[o++] = data[s + c];
    }
  }
  return { width: ow, height: oh, channels: C, data: out };
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}
