// What an image file is, read from its first bytes and its header alone: the format (from magic
// numbers, never from a file name or a Content-Type), the stored width and height and the EXIF
// orientation. Reading the header costs almost nothing, so a server can refuse a decompression bomb
// (a small file that claims a huge image) before decoding a single pixel.

import { readExifOrientation, type Orientation } from "./exif-orientation.ts";

/** The formats every edge-cnn decoder reads. */
export type DecodableFormat = "JPEG" | "PNG" | "WebP";

export interface ImageHeader {
  format: DecodableFormat;
  /** Stored width and height, before orientation is applied. */
  width: number;
  height: number;
  /** EXIF orientation (1 when the file has none). */
  orientation: Orientation;
  /** An animated WebP (edge-cnn classifies still images only). */
  animated: boolean;
}

/** The header is missing, cut off or self-contradictory. */
export class ImageHeaderError extends Error {
  override name = "ImageHeaderError";
}

/**
 * Names the format of `bytes` from its magic number: "JPEG", "PNG", "WebP", or another well-known
 * format people upload by mistake ("GIF", "PDF", "HEIC", "JSON", "text", ...), or "unknown".
 */
export function sniffImageFormat(bytes: Uint8Array): string {
  const ascii = (at: number, n: number): string => String.fromCharCode(...bytes.subarray(at, at + n));
  const has = (at: number, ...b: number[]): boolean => bytes.length >= at + b.length && b.every((v, i) => bytes[at + i] === v);
  if (has(0, 0xff, 0xd8, 0xff)) return "JPEG";
  if (has(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "PNG";
  if (ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") return "WebP";
  if (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a") return "GIF";
  if (ascii(0, 5) === "%PDF-") return "PDF";
  if (ascii(0, 2) === "BM") return "BMP";
  if (has(0, 0x49, 0x49, 0x2a, 0x00) || has(0, 0x4d, 0x4d, 0x00, 0x2a)) return "TIFF";
  if (ascii(4, 4) === "ftyp") {
    const brand = ascii(8, 4);
    if (brand === "avif" || brand === "avis") return "AVIF";
    if (["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].includes(brand)) return "HEIC";
    return "MP4/QuickTime";
  }
  if (has(0, 0xff, 0x0a) || has(0, 0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20)) return "JPEG XL";
  if (has(0, 0, 0, 1, 0)) return "ICO";
  if (ascii(0, 4) === "8BPS") return "PSD";
  if (has(0, 0x50, 0x4b, 0x03, 0x04)) return "ZIP";
  if (has(0, 0x1f, 0x8b)) return "gzip";
  const text = ascii(0, 256).replace(/^\xEF\xBB\xBF/, "").trimStart().toLowerCase(); // after a UTF-8 BOM
  if (text.startsWith("<svg") || (text.startsWith("<?xml") && text.includes("<svg"))) return "SVG";
  if (text.startsWith("<!doctype html") || text.startsWith("<html")) return "HTML";
  if (text.startsWith("{") || text.startsWith("[")) return "JSON";
  if (text.length > 0 && /^[\t\n\r\x20-\x7e]*$/.test(text)) return "text";
  return "unknown";
}

/**
 * Reads format, size and orientation from a JPEG, PNG or WebP header. Returns null for any other
 * format (see sniffImageFormat to name it); throws ImageHeaderError when the header is damaged.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | null {
  switch (sniffImageFormat(bytes)) {
    case "JPEG": return readJpegHeader(bytes);
    case "PNG": return readPngHeader(bytes);
    case "WebP": return readWebpHeader(bytes);
    default: return null;
  }
}

function fail(message: string): never {
  throw new ImageHeaderError(message);
}

function checkSize(format: string, width: number, height: number): void {
  if (width < 1 || height < 1) fail(`the ${format} header says the image is ${width}x${height} pixels`);
}

// ---------------------------------------------------------------------------------------------
// JPEG: a sequence of marker segments (FF xx, 2-byte big-endian length) up to the first scan (SOS).

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not. */
const isStartOfFrame = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function readJpegHeader(bytes: Uint8Array): ImageHeader {
  let size: [number, number] | null = null;
  let orientation: Orientation = 1, exifSeen = false;
  let at = 2; // after SOI
  for (;;) {
    while (at < bytes.length && bytes[at] === 0xff && bytes[at + 1] === 0xff) at++; // fill bytes
    if (at + 4 > bytes.length) fail("the JPEG file ends inside its header (it is truncated)");
    if (bytes[at] !== 0xff) fail(`the JPEG header is damaged (no marker at byte ${at})`);
    const marker = bytes[at + 1];
    if (marker === 0xd9) fail("the JPEG file ends before its image data");
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; } // markers without a length
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) fail(`the JPEG header is damaged (segment length ${length} at byte ${at})`);
    const body = bytes.subarray(at + 4, at + 2 + length);
    if (at + 2 + length > bytes.length) fail("the JPEG file ends inside its header (it is truncated)");
    if (marker === 0xe1 && !exifSeen && isExif(body)) { // APP1 "Exif\0\0": the first one counts
      exifSeen = true;
      orientation = readExifOrientation(body);
    }
    if (isStartOfFrame(marker)) {
      if (length < 8) fail("the JPEG frame header is damaged");
      size = [(body[3] << 8) | body[4], (body[1] << 8) | body[2]]; // precision, height, width
    }
    if (marker === 0xda) break; // start of scan: compressed data follows
    at += 2 + length;
  }
  if (!size) fail("the JPEG file has no frame header (SOF) before its image data");
  checkSize("JPEG", size[0], size[1]);
  return { format: "JPEG", width: size[0], height: size[1], orientation, animated: false };
}

function isExif(body: Uint8Array): boolean {
  return body.length >= 6 && String.fromCharCode(...body.subarray(0, 6)) === "Exif\0\0";
}

/**
 * True when a JPEG's compressed data runs to an end-of-image marker (FF D9). A JPEG cut off while
 * uploading has none; libjpeg then only warns and fills the rest with grey, so decoders that do not
 * check (mozjpeg in Wasm) would classify half an image, while sharp (the trainer) refuses it.
 * Entropy-coded data never contains FF D9 (FF is always followed by 00 or a restart marker), and
 * segments before the first scan are skipped, so an embedded thumbnail does not count.
 */
export function jpegHasEndMarker(bytes: Uint8Array): boolean {
  let at = 2;
  // Skip the header segments (as readJpegHeader does) to the first scan.
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; }
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
    if (marker === 0xda) break;
  }
  // Search from the end: the marker is normally the last two bytes (some writers append data after it).
  for (let i = bytes.length - 2; i >= at; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// PNG: signature, then chunks (4-byte big-endian length, 4-byte type, data, CRC). IHDR comes first.

function readPngHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < 33) fail("the PNG file ends inside its header (it is truncated)");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (chunkType(bytes, 12) !== "IHDR" || dv.getUint32(8) !== 13) fail("the PNG file does not start with an IHDR chunk");
  const width = dv.getUint32(16), height = dv.getUint32(20);
  checkSize("PNG", width, height);
  // An eXIf chunk may carry an orientation (libvips honours it); it is usually before IDAT but may follow.
  let orientation: Orientation = 1;
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = dv.getUint32(at), type = chunkType(bytes, at + 4);
    if (type === "eXIf") {
      orientation = readExifOrientation(bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length)));
      break;
    }
    if (type === "IEND") break;
    at += 12 + length;
  }
  return { format: "PNG", width, height, orientation, animated: false };
}

function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

// ---------------------------------------------------------------------------------------------
// WebP: a RIFF container; the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended, with
// the canvas size and optional EXIF, alpha and animation chunks).

function readWebpHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < 30) fail("the WebP file ends inside its header (it is truncated)");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = chunkType(bytes, 12);
  const u24 = (at: number): number => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
  let width: number, height: number, orientation: Orientation = 1, animated = false;
  if (first === "VP8 ") {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 scale bits each).
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) fail("the WebP (VP8) frame header is damaged");
    width = dv.getUint16(26, true) & 0x3fff;
    height = dv.getUint16(28, true) & 0x3fff;
  } else if (first === "VP8L") {
    // Signature 0x2f, then 14 bits width - 1 and 14 bits height - 1, little-endian bit order.
    if (bytes[20] !== 0x2f) fail("the WebP (VP8L) header is damaged");
    const bits = dv.getUint32(21, true);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (first === "VP8X") {
    const flags = bytes[20];
    animated = (flags & 0x02) !== 0;
    width = u24(24) + 1;
    height = u24(27) + 1;
    if (flags & 0x08) { // EXIF chunk present somewhere after VP8X
      for (let at = 12; at + 8 <= bytes.length;) {
        const length = dv.getUint32(at + 4, true);
        if (chunkType(bytes, at) === "EXIF") {
          orientation = readExifOrientation(bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length)));
          break;
        }
        at += 8 + length + (length & 1); // chunks are padded to an even length
      }
    }
  } else {
    fail(`the WebP file starts with an unknown chunk ${JSON.stringify(first)}`);
  }
  checkSize("WebP", width, height);
  return { format: "WebP", width, height, orientation, animated };
}
