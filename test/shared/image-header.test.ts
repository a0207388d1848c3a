// Format sniffing and header reading: every format named from its magic number, sizes from the
// header alone (so a decompression bomb is caught before decoding), damaged headers refused with a
// reason, and the JPEG end-marker check. Real files are checked against sharp in
// test/trainer/edge-parity-reference.test.ts.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ImageHeaderError, jpegHasEndMarker, readImageHeader, sniffImageFormat } from "../../shared/image-header.ts";
import { bombJpeg, bombPng, bombWebp } from "../fixtures/bombs.ts";
import { withExifOrientation } from "../fixtures/exif.ts";

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(import.meta.dirname, "../fixtures/edge", name)));
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

describe("sniffImageFormat", () => {
  const cases: Array<[string, Uint8Array]> = [
    ["JPEG", fixture("cat-320x240.jpg")],
    ["PNG", fixture("cat-alpha.png")],
    ["WebP", fixture("dog.webp")],
    ["GIF", ascii("GIF89a\x01\x00\x01\x00")],
    ["GIF", ascii("GIF87a")],
    ["PDF", ascii("%PDF-1.7\n%\xe2\xe3")],
    ["BMP", ascii("BM6\x00\x00\x00")],
    ["TIFF", new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0])],
    ["TIFF", new Uint8Array([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8])],
    ["HEIC", ascii("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00")],
    ["AVIF", ascii("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00")],
    ["MP4/QuickTime", ascii("\x00\x00\x00\x18ftypisom")],
    ["JPEG XL", new Uint8Array([0xff, 0x0a, 0xfa])],
    ["ICO", new Uint8Array([0, 0, 1, 0, 1, 0])],
    ["PSD", ascii("8BPS\x00\x01")],
    ["ZIP", ascii("PK\x03\x04")],
    ["gzip", new Uint8Array([0x1f, 0x8b, 8])],
    ["SVG", ascii('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ["SVG", new TextEncoder().encode('\uFEFF<?xml version="1.0"?>\n<svg></svg>')],
    ["HTML", ascii("<!DOCTYPE html><html>")],
    ["JSON", ascii(' {"name": "edge-cnn"}')],
    ["text", ascii("just some text\n")],
    ["unknown", new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7])],
    ["unknown", new Uint8Array(0)],
    ["unknown", new Uint8Array([0xff])],
  ];
  for (const [format, bytes] of cases) {
    it(`${format}: ${JSON.stringify(String.fromCharCode(...bytes.subarray(0, 12)))}`, () => expect(sniffImageFormat(bytes)).toBe(format));
  }
});

describe("readImageHeader", () => {
  it("reads size and orientation of JPEG (baseline, progressive), PNG and WebP (VP8, VP8L)", () => {
    expect(readImageHeader(fixture("cat-320x240.jpg"))).toEqual({ format: "JPEG", width: 320, height: 240, orientation: 1, animated: false });
    expect(readImageHeader(fixture("dog-500x375-progressive.jpg"))).toMatchObject({ width: 500, height: 375 });
    expect(readImageHeader(fixture("sign-exif-orientation-6.jpg"))).toMatchObject({ width: 64, height: 100, orientation: 6 });
    expect(readImageHeader(fixture("cat-alpha.png"))).toEqual({ format: "PNG", width: 96, height: 80, orientation: 1, animated: false });
    expect(readImageHeader(fixture("dog.webp"))).toEqual({ format: "WebP", width: 240, height: 180, orientation: 1, animated: false });
    expect(readImageHeader(fixture("cat-alpha-lossless.webp"))).toMatchObject({ format: "WebP", width: 80, height: 60 });
  });

  it("returns null for formats it does not decode", () => {
    expect(readImageHeader(ascii("GIF89a\x01\x00\x01\x00"))).toBeNull();
    expect(readImageHeader(ascii("%PDF-1.4"))).toBeNull();
  });

  it("reads the claimed size of decompression bombs without decoding anything", () => {
    expect(readImageHeader(bombPng(100_000, 100_000))).toMatchObject({ format: "PNG", width: 100_000, height: 100_000 });
    expect(readImageHeader(bombJpeg(65_535, 65_535))).toMatchObject({ format: "JPEG", width: 65_535, height: 65_535 });
    expect(readImageHeader(bombWebp(16_384, 16_384))).toMatchObject({ format: "WebP", width: 16_384, height: 16_384 });
  });

  it("only the first Exif APP1 counts, and an XMP APP1 before it is skipped", () => {
    const once = withExifOrientation(fixture("cat-320x240.jpg"), 3);
    expect(readImageHeader(withExifOrientation(once, 8))!.orientation).toBe(8); // inserted first, so it is the first
    const xmp = ascii("http://ns.adobe.com/xap/1.0/\0<x/>");
    const withXmp = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0, xmp.length + 2, ...xmp, ...once.subarray(2)]);
    expect(readImageHeader(withXmp)!.orientation).toBe(3);
  });

  it("flags animated WebP", () => {
    const vp8x = bombWebp(10, 10, 0x02);
    expect(readImageHeader(vp8x)!.animated).toBe(true);
  });

  const damaged: Array<[string, Uint8Array, RegExp]> = [
    ["JPEG cut inside its header", fixture("cat-320x240.jpg").subarray(0, 100), /truncated/],
    ["JPEG with only SOI", new Uint8Array([0xff, 0xd8, 0xff]), /truncated/],
    ["JPEG with no frame header", new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2, 1, 2, 3, 0xff, 0xd9]), /no frame header/],
    ["JPEG with garbage after SOI", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, ...new Array(14).fill(0), 0x12, 0x34, 0x56, 0x78]), /damaged/],
    ["JPEG of zero width", bombJpeg(0, 10), /0x10 pixels|10x0|says the image is/],
    ["PNG cut inside IHDR", fixture("cat-alpha.png").subarray(0, 20), /truncated/],
    ["PNG without IHDR first", (() => { const b = fixture("cat-alpha.png").slice(0, 40); b.set(ascii("IDAT"), 12); return b; })(), /IHDR/],
    ["PNG of zero height", bombPng(10, 0), /10x0/],
    ["WebP cut inside its header", fixture("dog.webp").subarray(0, 24), /truncated/],
    ["WebP with an unknown first chunk", (() => { const b = fixture("dog.webp").slice(0, 40); b.set(ascii("ABCD"), 12); return b; })(), /unknown chunk/],
    ["WebP VP8 without its start code", (() => { const b = fixture("dog.webp").slice(0, 40); b[23] = 0; return b; })(), /damaged/],
  ];
  for (const [name, bytes, message] of damaged) {
    it(`refuses ${name}`, () => {
      expect(() => readImageHeader(bytes)).toThrow(ImageHeaderError);
      expect(() => readImageHeader(bytes)).toThrow(message);
    });
  }
});

describe("jpegHasEndMarker", () => {
  it("is true for complete JPEGs (also with data after the end marker)", () => {
    const jpg = fixture("dog-500x375-progressive.jpg");
    expect(jpegHasEndMarker(jpg)).toBe(true);
    expect(jpegHasEndMarker(new Uint8Array([...jpg, 0, 1, 2, 3]))).toBe(true);
  });

  it("is false for a JPEG cut anywhere in its compressed data", () => {
    const jpg = fixture("cat-320x240.jpg");
    for (const keep of [0.3, 0.6, 0.9, 0.999]) expect(jpegHasEndMarker(jpg.subarray(0, Math.floor(jpg.length * keep))), String(keep)).toBe(false);
    expect(jpegHasEndMarker(jpg.subarray(0, jpg.length - 1))).toBe(false);
  });

  it("does not count an end marker inside the header (an EXIF thumbnail)", () => {
    const thumb = new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0, 0xff, 0xd8, 0xff, 0xd9]); // "Exif\0\0" + a tiny JPEG
    const jpg = fixture("cat-320x240.jpg");
    const cut = jpg.subarray(0, jpg.length / 2);
    const withThumb = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0, thumb.length + 2, ...thumb, ...cut.subarray(2)]);
    expect(jpegHasEndMarker(withThumb)).toBe(false);
  });
});
