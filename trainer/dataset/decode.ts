// Decodes one image file into shared `Pixels`. JPEG, PNG and still WebP go through the shared
// decoders (shared/decode: libjpeg-turbo and libwebp in Wasm, a streaming PNG decoder) at the scale
// the shared rule picks for the model's input, exactly as the Worker and the widget decode them, so
// the model is trained on the pixels the edge will see. The other formats (GIF, TIFF, AVIF, animated
// WebP, which the Worker refuses) are decoded by sharp. Either way the decoder only decodes and orients; cropping,
// resizing and alpha flattening are shared/preprocess's job. Alpha is kept as a channel and
// greyscale stays 1 or 2 channels for that reason.

import { readFile, stat } from "node:fs/promises";
import sharp from "sharp";
import { decodeJpegForModel, JpegDataError } from "../../shared/decode/jpeg-for-model.ts";
import { decodePngForModel } from "../../shared/decode/png-for-model.ts";
import { PngDecodeError } from "../../shared/decode/png.ts";
import { decodeWebpForModel } from "../../shared/decode/webp-for-model.ts";
import { WebpDecodeError } from "../../shared/decode/webp.ts";
import { ImageHeaderError, readImageHeader, type ImageHeader } from "../../shared/image-header.ts";
import type { Pixels } from "../../shared/preprocess.ts";
import { jpegDecoder, webpDecoder } from "../decoders-node.ts";

/** A file that cannot be used as an image; `reason` says why without the file name (for lists). */
export class DecodeError extends Error {
  override name = "DecodeError";
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
  }
}

export interface DecodeOptions {
  /** Largest width*height accepted (decompression-bomb guard). Default 100 megapixels. */
  maxPixels?: number;
  /** Largest file accepted, in bytes. Default 64 MiB. */
  maxBytes?: number;
  /**
   * The model's input [height, width]: JPEGs are decoded at the reduced scale the shared rule picks
   * for it (shared/decode/scale.ts). Without it, JPEGs decode at full size.
   */
  inputSize?: readonly [number, number];
}

export const DEFAULT_MAX_PIXELS = 100_000_000;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** The formats we promise; sharp can read more (SVG, PDF, ...) but those have no place in a photo dataset. */
const FORMATS: Record<string, string> = { jpeg: "JPEG", png: "PNG", webp: "WebP", gif: "GIF", tiff: "TIFF", heif: "AVIF" };

/** Reads and decodes `file`; every failure is a DecodeError that names the file. */
export async function decodeImageFile(file: string, opts: DecodeOptions = {}): Promise<Pixels> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw new DecodeError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // Check the size before reading so a huge file is never loaded into memory.
  if (size > maxBytes) throw new DecodeError(file, `too large (the file is ${bytesText(size)}, the limit is ${bytesText(maxBytes)})`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new DecodeError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeImage(bytes, file, opts);
}

/** Decodes image bytes; `name` is used in error messages. */
export async function decodeImage(bytes: Uint8Array, name: string, opts: DecodeOptions = {}): Promise<Pixels> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS, maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length === 0) throw new DecodeError(name, `empty file (0 bytes)`);
  if (bytes.length > maxBytes) throw new DecodeError(name, `too large (the file is ${bytesText(bytes.length)}, the limit is ${bytesText(maxBytes)})`);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return decodeJpeg(bytes, name, maxPixels, opts.inputSize);
  if (sniff(bytes) === "PNG") return decodePngFile(bytes, name, maxPixels, opts.inputSize);
  if (sniff(bytes) === "WebP") {
    const still = decodeStillWebp(bytes, name, maxPixels, opts.inputSize);
    if (still) return still;
  }
  // failOn "error": corrupt or truncated data fails; mere warnings (common in camera JPEGs) do not.
  // pages 1: the first frame of a GIF or the first page of a TIFF.
  const options = { limitInputPixels: maxPixels, failOn: "error", pages: 1, autoOrient: true } as const;
  let meta: sharp.Metadata;
  try {
    // Header only, without the pixel limit, so a too-large image is reported with its real size below.
    meta = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
  } catch (e) {
    throw explain(e, name, bytes, maxPixels);
  }
  const format = meta.format ?? "unknown";
  if (!(format in FORMATS) || (format === "heif" && meta.compression !== "av1")) {
    const what = format === "heif" ? `HEIF/${meta.compression ?? "?"} (HEIC)` : format;
    throw new DecodeError(name, `unsupported format ${what}; expected ${Object.values(FORMATS).join(", ")}`);
  }
  const w = meta.width ?? 0, h = meta.height ?? 0; // before orientation; the product is what matters
  if (w * h > maxPixels) throw new DecodeError(name, `too large (${w}x${h} = ${mp(w * h)}, the limit is ${mp(maxPixels)})`);
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    // sRGB 8-bit out: converts CMYK, 16-bit and palette images. Alpha is kept (sharp only flattens when asked).
    // keepIccProfile: an embedded colour profile is NOT applied, because the Worker's and the browser
    // widget's decoders ignore it too; applying it here alone would shift colours by up to 12 levels
    // (Apple display profiles), and the model would see different pixels at the edge than in training.
    out = await sharp(bytes, options).keepIccProfile().toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw explain(e, name, bytes, maxPixels);
  }
  const { width, height, channels } = out.info;
  const data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length);
  if (channels !== 3 && channels !== 4) throw new DecodeError(name, `decoded to ${channels} channels, expected 3 or 4`);
  const grey = meta.space === "b-w" || meta.space === "grey16";
  // sharp turns grey into R=G=B; keep one grey channel (+ alpha) as the Pixels contract asks.
  return grey ? packGrey(width, height, channels, data) : { width, height, channels, data };
}

/** Without a model input size: no reduction (an input larger than any image forces scale 1). */
const FULL_SIZE: [number, number] = [1 << 30, 1 << 30];

/** The shared header, size-checked: the first step of both shared decoders. */
function checkedHeader(bytes: Uint8Array, name: string, format: string, maxPixels: number): ImageHeader {
  let header;
  try {
    header = readImageHeader(bytes);
  } catch (e) {
    if (e instanceof ImageHeaderError) throw new DecodeError(name, `truncated or corrupt ${format} image (${e.message})`);
    throw e;
  }
  if (!header) throw new DecodeError(name, `truncated or corrupt ${format} image (unreadable header)`);
  const { width: w, height: h } = header;
  if (w * h > maxPixels) throw new DecodeError(name, `too large (${w}x${h} = ${mp(w * h)}, the limit is ${mp(maxPixels)})`);
  return header;
}

/** A PNG through the shared decoder, the same steps as the Worker's (edge/decode.ts). */
async function decodePngFile(bytes: Uint8Array, name: string, maxPixels: number, inputSize?: readonly [number, number]): Promise<Pixels> {
  const header = checkedHeader(bytes, name, "PNG", maxPixels);
  try {
    return await decodePngForModel(bytes, header, inputSize ?? FULL_SIZE);
  } catch (e) {
    if (e instanceof PngDecodeError) throw new DecodeError(name, `truncated or corrupt image data (${e.message})`);
    throw e;
  }
}

/** A still WebP through the shared decoder (the Worker's steps); undefined for an animated one (sharp reads its first frame). */
function decodeStillWebp(bytes: Uint8Array, name: string, maxPixels: number, inputSize?: readonly [number, number]): Pixels | undefined {
  const header = checkedHeader(bytes, name, "WebP", maxPixels);
  if (header.animated) return undefined;
  try {
    return decodeWebpForModel(bytes, header, inputSize ?? FULL_SIZE, webpDecoder());
  } catch (e) {
    if (e instanceof WebpDecodeError) throw new DecodeError(name, `truncated or corrupt image data (${e.message})`);
    throw e;
  }
}

/** A JPEG through the shared decoder, the same steps as the Worker's (edge/decode.ts). */
function decodeJpeg(bytes: Uint8Array, name: string, maxPixels: number, inputSize?: readonly [number, number]): Pixels {
  const header = checkedHeader(bytes, name, "JPEG", maxPixels);
  try {
    return decodeJpegForModel(bytes, header, inputSize ?? FULL_SIZE, jpegDecoder());
  } catch (e) {
    if (!(e instanceof JpegDataError)) throw e;
    if (e.kind === "too_large") throw new DecodeError(name, `too large (${e.message})`);
    if (e.kind === "corrupt" && /unsupported|not supported|bogus jpeg colorspace/i.test(e.message)) throw new DecodeError(name, `unsupported image variant (${e.message})`);
    throw new DecodeError(name, `truncated or corrupt image data (${e.message})`);
  }
}

function packGrey(width: number, height: number, channels: 3 | 4, data: Uint8Array): Pixels {
  const n = width * height, outCh = channels === 4 ? 2 : 1, out = new Uint8Array(n * outCh);
  for (let i = 0; i < n; i++) {
    out[i * outCh] = data[i * channels];
    if (outCh === 2) out[i * 2 + 1] = data[i * 4 + 3];
  }
  return { width, height, channels: outCh, data: out };
}

/** Turns a sharp/libvips message into one a user can act on. */
function explain(e: unknown, name: string, bytes: Uint8Array, maxPixels: number): DecodeError {
  const msg = (e as Error)?.message ?? String(e);
  const sniffed = sniff(bytes);
  if (/unsupported image format/i.test(msg)) {
    // libvips cannot even identify it: if the signature is a known format, the file is cut short or damaged.
    return new DecodeError(name, sniffed ? `truncated or corrupt ${sniffed} image (unreadable header)` : `not an image (unrecognised file content)`);
  }
  if (/pixel limit/i.test(msg)) return new DecodeError(name, `too large (more than ${mp(maxPixels)})`);
  if (/unsupported|not supported|no decoder/i.test(msg)) return new DecodeError(name, `unsupported image variant (${firstLine(msg)})`);
  return new DecodeError(name, `truncated or corrupt image data (${firstLine(msg)})`);
}

/** The format named by the file's signature bytes, if it is one we support. */
function sniff(b: Uint8Array): string | undefined {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b[0] === 0xff && b[1] === 0xd8) return "JPEG";
  if (ascii(1, 4) === "PNG") return "PNG";
  if (ascii(0, 4) === "GIF8") return "GIF";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "WebP";
  if (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*") return "TIFF";
  if (ascii(4, 8) === "ftyp") return "AVIF";
  return undefined;
}

function firstLine(s: string): string {
  return s.split("\n")[0].trim();
}

function bytesText(n: number): string {
  return n < 1024 * 1024 ? `${n} bytes` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function mp(n: number): string {
  return `${(n / 1e6).toFixed(1)} megapixels`;
}
