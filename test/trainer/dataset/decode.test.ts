// Decoding with sharp into shared Pixels: every promised format, EXIF orientation honoured, alpha and
// grey kept for shared/preprocess to handle, CMYK and 16-bit converted, and every bad file named with
// what is wrong.

import { writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DecodeError, decodeImage, decodeImageFile } from "../../../trainer/dataset/decode.ts";
import type { Pixels } from "../../../shared/preprocess.ts";
import { removeTempDirs, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

type RGB = [number, number, number];
const RED: RGB = [220, 20, 20], GREEN: RGB = [20, 200, 40], BLUE: RGB = [20, 40, 220], WHITE: RGB = [255, 255, 255];

/** A w x h RGB image in four solid quadrants: top-left, top-right, bottom-left, bottom-right. */
function quadrants(w: number, h: number, [tl, tr, bl, br]: RGB[]): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const c = y < h / 2 ? (x < w / 2 ? tl : tr) : (x < w / 2 ? bl : br);
    b.set(c, (y * w + x) * 3);
  }
  return b;
}

const raw = (data: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4) => sharp(data, { raw: { width, height, channels } });

function pixel(p: Pixels, x: number, y: number): number[] {
  const o = (y * p.width + x) * p.channels;
  return Array.from(p.data.subarray(o, o + p.channels));
}

function expectNear(got: number[], want: number[], tol: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i]), `channel ${i}: got ${got}, want ${want}`).toBeLessThanOrEqual(tol));
}

const W = 32, H = 16;
const QUADS = [RED, GREEN, BLUE, WHITE];

describe("decodeImage: formats", () => {
  it("JPEG -> 3 channels, colours kept", async () => {
    const p = await decodeImage(await raw(quadrants(W, H, QUADS), W, H, 3).jpeg({ quality: 95 }).toBuffer(), "q.jpg");
    expect([p.width, p.height, p.channels]).toEqual([W, H, 3]);
    expectNear(pixel(p, 4, 4), RED, 12);
    expectNear(pixel(p, 28, 12), WHITE, 12);
  });

  it("PNG with alpha keeps the alpha channel exactly (shared flattens it)", async () => {
    const rgba = Buffer.from([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 64]);
    const p = await decodeImage(await raw(rgba, 2, 2, 4).png().toBuffer(), "a.png");
    expect(p.channels).toBe(4);
    expect(Array.from(p.data)).toEqual(Array.from(rgba));
  });

  it("greyscale PNG stays 1 channel, grey+alpha 2 channels", async () => {
    const grey = Buffer.from([0, 50, 100, 255]);
    const g = await decodeImage(await raw(grey, 2, 2, 1).toColourspace("b-w").png().toBuffer(), "g.png");
    expect(g.channels).toBe(1);
    expect(Array.from(g.data)).toEqual([0, 50, 100, 255]);
    const ga = Buffer.from([0, 255, 50, 0, 100, 128, 255, 7]);
    const p = await decodeImage(await raw(ga, 2, 2, 2).toColourspace("b-w").png().toBuffer(), "ga.png");
    expect(p.channels).toBe(2);
    expect(Array.from(p.data)).toEqual(Array.from(ga));
  });

  it("16-bit PNG -> 8-bit", async () => {
    const d16 = new Uint16Array(4 * 3).fill(0);
    for (let i = 0; i < 4; i++) d16.set([65535, 32896, 2570], i * 3); // 255, 128, 10 in 8 bits
    const png = await sharp(d16, { raw: { width: 2, height: 2, channels: 3 } }).toColourspace("rgb16").png().toBuffer();
    expect((await sharp(png).metadata()).depth).toBe("ushort");
    const p = await decodeImage(png, "16.png");
    expect(p.channels).toBe(3);
    expect(pixel(p, 1, 1)).toEqual([255, 128, 10]);
  });

  it("WebP (lossless) decodes exactly", async () => {
    const q = quadrants(W, H, QUADS);
    const p = await decodeImage(await raw(q, W, H, 3).webp({ lossless: true }).toBuffer(), "q.webp");
    expect([p.width, p.height]).toEqual([W, H]);
    expect(pixel(p, 20, 2).slice(0, 3)).toEqual(GREEN);
  });

  it("GIF: the first frame of an animation", async () => {
    // Two 8x8 frames: the first red, the second blue.
    const frames = Buffer.concat([quadrants(8, 8, [RED, RED, RED, RED]), quadrants(8, 8, [BLUE, BLUE, BLUE, BLUE])]);
    const gif = await sharp(frames, { raw: { width: 8, height: 16, channels: 3, pageHeight: 8 } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const p = await decodeImage(gif, "anim.gif");
    expect([p.width, p.height]).toEqual([8, 8]);
    expectNear(pixel(p, 3, 3).slice(0, 3), RED, 4);
  });

  it("TIFF (LZW) decodes exactly", async () => {
    const q = quadrants(W, H, QUADS);
    const p = await decodeImage(await raw(q, W, H, 3).tiff({ compression: "lzw" }).toBuffer(), "q.tiff");
    expect(pixel(p, 2, 14).slice(0, 3)).toEqual(BLUE);
  });

  it("AVIF", async () => {
    const p = await decodeImage(await raw(quadrants(W, H, QUADS), W, H, 3).avif({ quality: 90 }).toBuffer(), "q.avif");
    expect([p.width, p.height]).toEqual([W, H]);
    expectNear(pixel(p, 4, 4).slice(0, 3), RED, 20);
  });

  it("CMYK JPEG -> sRGB, 3 channels", async () => {
    const jpg = await raw(quadrants(W, H, QUADS), W, H, 3).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(jpg).metadata()).space).toBe("cmyk");
    const p = await decodeImage(jpg, "cmyk.jpg");
    expect(p.channels).toBe(3);
    expectNear(pixel(p, 4, 4), RED, 40); // through a CMYK profile and back: close, not exact
    expectNear(pixel(p, 28, 12), WHITE, 40);
  });

  it("honours EXIF orientation (6: rotate 90 degrees clockwise)", async () => {
    const jpg = await raw(quadrants(W, H, QUADS), W, H, 3).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(jpg).metadata()).orientation).toBe(6);
    const p = await decodeImage(jpg, "rotated.jpg");
    expect([p.width, p.height]).toEqual([H, W]); // portrait now
    // Clockwise: the old bottom-left comes to the top-left, the old top-left to the top-right.
    expectNear(pixel(p, 2, 2), BLUE, 12);
    expectNear(pixel(p, H - 3, 2), RED, 12);
    expectNear(pixel(p, 2, W - 3), WHITE, 12);
    expectNear(pixel(p, H - 3, W - 3), GREEN, 12);
  });
});

describe("decodeImage / decodeImageFile: bad input", () => {
  let dir: string, png: Buffer;
  beforeAll(async () => {
    dir = await tempDir("decode");
    png = await raw(quadrants(64, 64, QUADS), 64, 64, 3).png().toBuffer();
  });

  async function reason(p: Promise<unknown>): Promise<string> {
    const e = await p.then(() => undefined, (e) => e);
    expect(e).toBeInstanceOf(DecodeError);
    return (e as DecodeError).message;
  }

  it("an empty file", async () => {
    const f = path.join(dir, "empty.jpg");
    await writeFile(f, "");
    expect(await reason(decodeImageFile(f))).toBe(`${f}: empty file (0 bytes)`);
  });

  it("a text file named .jpg", async () => {
    const f = path.join(dir, "notes.jpg");
    await writeFile(f, "these are my notes, not a photo\n");
    expect(await reason(decodeImageFile(f))).toBe(`${f}: not an image (unrecognised file content)`);
  });

  it("a truncated PNG", async () => {
    const f = path.join(dir, "cut.png");
    await writeFile(f, png.subarray(0, png.length >> 1));
    expect(await reason(decodeImageFile(f))).toMatch(new RegExp(`^${escape(f)}: truncated or corrupt image data \\(`));
  });

  it("a corrupt PNG (damaged compressed data)", async () => {
    const f = path.join(dir, "corrupt.png"), bad = Buffer.from(png);
    for (let i = 100; i < bad.length - 20; i += 7) bad[i] ^= 0x5a;
    await writeFile(f, bad);
    expect(await reason(decodeImageFile(f))).toMatch(new RegExp(`^${escape(f)}: truncated or corrupt image data \\(`));
  });

  it("a TIFF cut inside its header", async () => {
    const tif = await raw(quadrants(64, 64, QUADS), 64, 64, 3).tiff().toBuffer();
    expect(await reason(decodeImage(tif.subarray(0, 40), "cut.tif"))).toBe("cut.tif: truncated or corrupt TIFF image (unreadable header)");
  });

  it("too many pixels (decompression bomb guard)", async () => {
    const big = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: "#fff" } }).png().toBuffer();
    expect(await reason(decodeImage(big, "big.png", { maxPixels: 1_000_000 })))
      .toBe("big.png: too large (3000x2000 = 6.0 megapixels, the limit is 1.0 megapixels)");
  });

  it("a file over the size cap is refused before it is read", async () => {
    const f = path.join(dir, "huge.png");
    await writeFile(f, png);
    expect(await reason(decodeImageFile(f, { maxBytes: 100 }))).toBe(`${f}: too large (the file is ${png.length} bytes, the limit is 100 bytes)`);
  });

  it("a format we do not promise (SVG)", async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    expect(await reason(decodeImage(svg, "logo.svg"))).toBe("logo.svg: unsupported format svg; expected JPEG, PNG, WebP, GIF, TIFF, AVIF");
  });

  it("a missing file", async () => {
    const f = path.join(dir, "nope.jpg");
    expect(await reason(decodeImageFile(f))).toBe(`${f}: cannot read (ENOENT)`);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
