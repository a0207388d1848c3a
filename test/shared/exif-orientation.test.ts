// EXIF orientation: reading the tag (damaged blocks are ignored, as libexif does) and turning pixels
// upright. Checked against sharp for every orientation in test/trainer/edge-parity-reference.test.ts.

import { describe, expect, it } from "vitest";
import { applyOrientation, readExifOrientation, type Orientation } from "../../shared/exif-orientation.ts";
import type { Pixels } from "../../shared/preprocess.ts";
import { exifOrientationBlock } from "../fixtures/exif.ts";

describe("readExifOrientation", () => {
  it("reads the tag in both byte orders, with or without the Exif\\0\\0 prefix", () => {
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8]) {
      for (const little of [false, true]) {
        const tiff = exifOrientationBlock(o, little);
        expect(readExifOrientation(tiff)).toBe(o);
        expect(readExifOrientation(new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff]))).toBe(o);
      }
    }
  });

  it("finds the tag among other IFD0 entries", () => {
    // Two entries: ImageWidth (0x0100, LONG) then Orientation = 8.
    const tiff = new Uint8Array(8 + 2 + 24 + 4);
    const dv = new DataView(tiff.buffer);
    tiff.set([0x4d, 0x4d]); dv.setUint16(2, 42); dv.setUint32(4, 8); dv.setUint16(8, 2);
    dv.setUint16(10, 0x0100); dv.setUint16(12, 4); dv.setUint32(14, 1); dv.setUint32(18, 640);
    dv.setUint16(22, 0x0112); dv.setUint16(24, 3); dv.setUint32(26, 1); dv.setUint16(30, 8);
    expect(readExifOrientation(tiff)).toBe(8);
  });

  it("gives 1 for a missing, out-of-range or damaged tag instead of throwing", () => {
    const cases: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      "not TIFF": new TextEncoder().encode("hello, world!"),
      "value 0": exifOrientationBlock(0),
      "value 9": exifOrientationBlock(9),
      "cut inside the IFD": exifOrientationBlock(6).subarray(0, 16),
      "IFD offset past the end": (() => { const t = exifOrientationBlock(6); new DataView(t.buffer).setUint32(4, 9999); return t; })(),
      "wrong magic 43": (() => { const t = exifOrientationBlock(6); new DataView(t.buffer).setUint16(2, 43); return t; })(),
      "wrong type (LONG)": (() => { const t = exifOrientationBlock(6); new DataView(t.buffer).setUint16(12, 4); return t; })(),
    };
    for (const [name, block] of Object.entries(cases)) expect(readExifOrientation(block), name).toBe(1);
  });
});

describe("applyOrientation", () => {
  // A 3x2 image whose pixel values are their labels:
  //   a b c
  //   d e f
  const img: Pixels = { width: 3, height: 2, channels: 1, data: Uint8Array.from("abcdef", (ch) => ch.charCodeAt(0)) };
  const rows = (p: Pixels): string[] => Array.from({ length: p.height }, (_, y) =>
    String.fromCharCode(...p.data.subarray(y * p.width, (y + 1) * p.width)));

  const upright: Record<Orientation, string[]> = {
    1: ["abc", "def"],
    2: ["cba", "fed"], // mirrored left-right
    3: ["fed", "cba"], // rotated 180
    4: ["def", "abc"], // mirrored top-bottom
    5: ["ad", "be", "cf"], // transposed
    6: ["da", "eb", "fc"], // rotated 90 clockwise
    7: ["fc", "eb", "da"], // transversed
    8: ["cf", "be", "ad"], // rotated 90 counter-clockwise
  };
  for (const [o, expected] of Object.entries(upright)) {
    it(`orientation ${o}`, () => {
      const out = applyOrientation(img, Number(o) as Orientation);
      expect(rows(out)).toEqual(expected);
      expect(out.channels).toBe(1);
    });
  }

  it("moves whole pixels (all channels together) and leaves the input untouched", () => {
    const rgba: Pixels = { width: 2, height: 1, channels: 4, data: new Uint8ClampedArray([1, 2, 3, 4, 5, 6, 7, 8]) };
    expect(Array.from(applyOrientation(rgba, 6).data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // 1x2 column
    expect(Array.from(applyOrientation(rgba, 2).data)).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
    expect(Array.from(rgba.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(applyOrientation(rgba, 1)).toBe(rgba);
  });
});
