// The shared streaming PNG decoder against sharp (libspng/libpng via libvips): at full size every
// variant decodes to sharp's exact pixels; reduced, to the box average of sharp's pixels; bad data
// is a PngDecodeError. Streamed (the Worker's uploads) in pieces of any size: the same pixels, the same
// eXIf, the same error for the same damage, and a failing source's own error.

import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodePng, decodePngStream, PngDecodeError } from "../../shared/decode/png.ts";
import { readImageHeader } from "../../shared/image-header.ts";
import { readExifOrientation } from "../../shared/exif-orientation.ts";
import type { Pixels } from "../../shared/preprocess.ts";

const W = 37, H = 23; // odd sizes: partial blocks at the right and bottom edges

/** A noisy RGBA test image (deterministic) so every filter type and every block differs. */
function noise(channels: 1 | 2 | 3 | 4): Buffer {
  const b = Buffer.alloc(W * H * channels);
  for (let i = 0; i < b.length; i++) b[i] = (i * 97 + ((i * i) >> 3) + (i % 7) * 31) & 0xff;
  if (channels === 2 || channels === 4) for (let p = 0; p < W * H; p++) b[p * channels + channels - 1] = p % 5 === 0 ? 0 : (p * 13) & 0xff;
  return b;
}

async function variants(): Promise<Array<[string, Buffer]>> {
  const raw = (ch: 1 | 2 | 3 | 4) => sharp(noise(ch), { raw: { width: W, height: H, channels: ch } });
  return [
    ["RGB 8-bit", await raw(3).png().toBuffer()],
    ["RGBA 8-bit", await raw(4).png().toBuffer()],
    ["RGBA interlaced", await raw(4).png({ progressive: true }).toBuffer()],
    ["grey", await raw(1).toColourspace("b-w").png().toBuffer()],
    ["grey+alpha", await raw(2).toColourspace("b-w").png().toBuffer()],
    ["palette", await raw(3).png({ palette: true, colours: 64, dither: 0 }).toBuffer()],
    ["palette with alpha, interlaced", await raw(4).png({ palette: true, colours: 200, progressive: true }).toBuffer()],
    ["RGB 16-bit", await raw(3).toColourspace("rgb16").png().toBuffer()],
    ["grey 1-bit", await raw(1).toColourspace("b-w").png({ palette: true, colours: 2 }).toBuffer()],
  ];
}

async function sharpPixels(png: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(png).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels as Pixels["channels"], data };
}

/** The reduction the decoder promises, computed from full-size pixels. */
function boxAverage(p: Pixels, d: number): Uint8Array {
  const ow = Math.ceil(p.width / d), oh = Math.ceil(p.height / d), ch = p.channels, out = new Uint8Array(ow * oh * ch);
  const alpha = ch === 2 || ch === 4, colours = ch >= 3 ? 3 : 1;
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let n = 0, a = 0;
    const wsum = [0, 0, 0], sum = [0, 0, 0];
    for (let y = oy * d; y < Math.min(p.height, oy * d + d); y++) for (let x = ox * d; x < Math.min(p.width, ox * d + d); x++) {
      const i = (y * p.width + x) * ch, al = alpha ? p.data[i + colours] : 255;
      n++; a += al;
      for (let c = 0; c < colours; c++) { wsum[c] += p.data[i + c] * al; sum[c] += p.data[i + c]; }
    }
    const o = (oy * ow + ox) * ch;
    for (let c = 0; c < colours; c++) out[o + c] = a > 0 ? Math.floor((2 * wsum[c] + a) / (2 * a)) : Math.floor((2 * sum[c] + n) / (2 * n));
    if (alpha) out[o + colours] = Math.floor((2 * a + n) / (2 * n));
  }
  return out;
}

describe("decodePng", () => {
  it("at full size gives sharp's exact pixels, and reduced the box average of them", async () => {
    for (const [name, png] of await variants()) {
      const ref = await sharpPixels(png);
      const full = await decodePng(png, 1);
      // sharp expands grey+palette; compare through the channels both have.
      expect([full.width, full.height], name).toEqual([W, H]);
      const same: Pixels = full.channels === ref.channels ? full : { ...full, data: expand(full, ref.channels) };
      expect(Buffer.compare(Buffer.from(same.data), Buffer.from(ref.data)), `${name}: differs from sharp at full size`).toBe(0);
      for (const d of [2, 4, 8] as const) {
        const reduced = await decodePng(png, d);
        expect([reduced.width, reduced.height], `${name} 1/${d}`).toEqual([Math.ceil(W / d), Math.ceil(H / d)]);
        expect(Buffer.compare(Buffer.from(reduced.data), Buffer.from(boxAverage(full, d))), `${name} 1/${d}`).toBe(0);
      }
    }
  });

  it("refuses damaged data with a reason", async () => {
    const png = (await variants())[0][1];
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ["cut in half", png.subarray(0, png.length >> 1), /truncated|cut off|ends early/],
      ["zeroed compressed data", Uint8Array.from(png, (b, i) => (i > 60 && i < png.length - 20 ? 0 : b)), /damaged|filter type|ends early|no image data/],
      ["no IHDR", png.subarray(0, 8), /no IHDR/],
    ];
    for (const [name, bytes, reason] of cases) {
      const e = await decodePng(bytes, 1).then(() => undefined, (err) => err);
      expect(e, name).toBeInstanceOf(PngDecodeError);
      expect((e as Error).message, name).toMatch(reason);
    }
  });
});

describe("decodePngStream", () => {
  /** bytes in pieces of `size` (a function of the piece's index, for uneven splits). */
  function* pieces(bytes: Uint8Array, size: (i: number) => number): Generator<Uint8Array> {
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = Math.max(1, size(i));
      yield bytes.subarray(at, at + n);
      at += n;
    }
  }
  const splits: Array<[string, (i: number) => number]> = [["1 byte", () => 1], ["uneven", (i) => (i * 37 + 11) % 300], ["7 bytes", () => 7], ["4 KiB", () => 4096]];
  const outcome = (p: Promise<unknown>) => p.then((r) => ({ ok: r }), (e: Error) => ({ error: `${e.name}: ${e.message}` }));

  it("gives the whole file's pixels however the bytes are split, and finds the eXIf wherever it is", async () => {
    const withExif = await sharp(noise(3), { raw: { width: W, height: H, channels: 3 } }).png().withMetadata({ orientation: 6 }).toBuffer();
    for (const [name, png] of [...(await variants()), ["RGB with eXIf orientation 6", withExif] as [string, Buffer]]) {
      for (const d of [1, 4] as const) {
        const whole = await decodePng(png, d);
        for (const [split, size] of splits) {
          const { pixels, exif } = await decodePngStream(pieces(png, size), d);
          expect(Buffer.compare(Buffer.from(pixels.data), Buffer.from(whole.data)), `${name} 1/${d} in ${split} pieces`).toBe(0);
          expect(exif ? readExifOrientation(exif) : 1, `${name}: orientation`).toBe(readImageHeader(png)!.orientation);
        }
      }
    }
    expect(readImageHeader(withExif)!.orientation).toBe(6);
  });

  it("fails the same way for the same damage, whole or in pieces: cut at every length, or with zeroed data", async () => {
    const png = (await variants())[0][1];
    const damaged = [...Array.from({ length: png.length }, (_, n) => png.subarray(0, n)), Uint8Array.from(png, (b, i) => (i > 60 && i < png.length - 20 ? 0 : b))];
    let failures = 0;
    for (const bytes of damaged) {
      const whole = await outcome(decodePng(bytes, 1));
      if ("error" in whole) {
        failures++;
        expect(whole.error, `${bytes.length} bytes`).toMatch(/^PngDecodeError: /);
      }
      for (const [split, size] of splits.slice(0, 2)) {
        const streamed = await outcome(decodePngStream(pieces(bytes, size), 1).then((r) => r.pixels));
        expect("error" in streamed ? streamed.error : "ok", `${bytes.length} bytes in ${split} pieces`).toBe("error" in whole ? whole.error : "ok");
      }
    }
    expect(failures).toBeGreaterThan(png.length - 30); // every cut that loses image data or the end chunk fails
  });

  it("passes a failing source's own error through (an upload over its size limit, say)", async () => {
    const png = (await variants())[0][1];
    class TooLarge extends Error {}
    async function* source(): AsyncGenerator<Uint8Array> {
      yield png.subarray(0, 100);
      throw new TooLarge("over the limit");
    }
    await expect(decodePngStream(source(), 1)).rejects.toBeInstanceOf(TooLarge);
  });
});

/** Grey (1/2 channels) as RGB(A), the way sharp hands out palette and grey images it expanded. */
function expand(p: Pixels, channels: number): Uint8Array {
  const n = p.width * p.height, out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const g = p.data[i * p.channels];
    for (let c = 0; c < Math.min(3, channels); c++) out[i * channels + c] = p.channels >= 3 ? p.data[i * p.channels + c] : g;
    if (channels === 4 || channels === 2) out[i * channels + channels - 1] = p.channels === 2 || p.channels === 4 ? p.data[i * p.channels + p.channels - 1] : 255;
  }
  return out;
}
