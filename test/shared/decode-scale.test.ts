// The shared decode-scale rule and the shared JPEG decoder (libjpeg-turbo in Wasm) in Node: the rule
// picks the reduction from the header alone, the decoder gives exactly libjpeg's scaled sizes, agrees
// with sharp (libvips + libjpeg-turbo) at full size, and survives bad data.

import { readFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { JpegDecodeError, JpegDecoder } from "../../shared/decode/jpeg.ts";
import { MAX_COEFFICIENT_BYTES } from "../../shared/decode/jpeg-for-model.ts";
import { coefficientBytes, readJpegFrame, withoutUnusedScans } from "../../shared/decode/jpeg-scans.ts";
import { decodeScaleDenom, scaledSize } from "../../shared/decode/scale.ts";
import { WebpDecodeError, WebpDecoder } from "../../shared/decode/webp.ts";
import { JPEG_WASM_URL, WEBP_WASM_URL } from "../../trainer/decoders-node.ts";
import { bombJpeg } from "../fixtures/bombs.ts";

const fixture = (f: string) => readFileSync(path.join(import.meta.dirname, "../fixtures/edge", f));
const decoder = () => new JpegDecoder(new WebAssembly.Module(readFileSync(JPEG_WASM_URL)));

describe("decodeScaleDenom", () => {
  it("keeps the short side at least 4x the model input", () => {
    expect(decodeScaleDenom(4032, 3024, [32, 32])).toBe(8); // 504x378
    expect(decodeScaleDenom(8000, 6000, [32, 32])).toBe(8);
    expect(decodeScaleDenom(640, 480, [32, 32])).toBe(2); // 240 >= 128, 120 is not
    expect(decodeScaleDenom(320, 240, [32, 32])).toBe(1);
    expect(decodeScaleDenom(3024, 4032, [64, 64])).toBe(8); // 378 >= 256
    expect(decodeScaleDenom(2000, 1500, [64, 64])).toBe(4);
    expect(decodeScaleDenom(2000, 1500, [32, 64])).toBe(4); // the larger input side counts
    expect(decodeScaleDenom(1, 1, [32, 32])).toBe(1);
  });

  it("rounds scaled sizes up, as libjpeg does", () => {
    expect(scaledSize(4032, 3024, 8)).toEqual({ width: 504, height: 378 });
    expect(scaledSize(500, 375, 2)).toEqual({ width: 250, height: 188 });
    expect(scaledSize(41, 33, 8)).toEqual({ width: 6, height: 5 });
  });
});

describe("JpegDecoder", () => {
  it("decodes at 1, 1/2, 1/4 and 1/8 to libjpeg's sizes; full size is sharp's pixels exactly", async () => {
    const jpeg = decoder();
    for (const file of ["cat-320x240.jpg", "dog-500x375-progressive.jpg", "cat-200x300-444.jpg", "dog-41x33.jpg"]) {
      const bytes = fixture(file);
      const full = jpeg.decode(bytes, 1);
      const ref = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      expect([full.width, full.height, full.channels], file).toEqual([ref.info.width, ref.info.height, 3]);
      expect(Buffer.compare(Buffer.from(full.data), ref.data), `${file}: pixels differ from sharp's`).toBe(0);
      for (const d of [2, 4, 8] as const) {
        const p = jpeg.decode(bytes, d);
        expect({ width: p.width, height: p.height }, `${file} at 1/${d}`).toEqual(scaledSize(full.width, full.height, d));
      }
    }
  });

  it("a greyscale JPEG gives one channel", () => {
    const p = decoder().decode(fixture("sign-grey.jpg"), 2);
    expect([p.width, p.height, p.channels]).toEqual([50, 50, 1]);
  });

  it("reports libjpeg's reason for bad data and keeps working afterwards", () => {
    const jpeg = decoder(), good = fixture("cat-320x240.jpg");
    const bad = Uint8Array.from([0xff, 0xd8, 0xff, 0xc4, 0, 3, 0, 0xff, 0xd9]);
    for (let i = 0; i < 200; i++) expect(() => jpeg.decode(bad, 1)).toThrow(JpegDecodeError);
    expect(() => jpeg.decode(bad, 1)).toThrow("Bogus marker length");
    expect(jpeg.decode(good, 8).width).toBe(40);
  });
});

describe("withoutUnusedScans (progressive JPEG at 1/8)", () => {
  it("leaves out the luma AC scans and decodes to exactly the same pixels", async () => {
    const jpeg = decoder();
    const { data, info } = await sharp(fixture("dog-500x375-progressive.jpg")).resize(1200, 900).raw().toBuffer({ resolveWithObject: true });
    for (const chroma of ["4:2:0", "4:4:4"] as const) {
      const bytes = new Uint8Array(await sharp(data, { raw: info }).jpeg({ quality: 90, progressive: true, chromaSubsampling: chroma }).toBuffer());
      const frame = readJpegFrame(bytes)!;
      expect(frame.progressive).toBe(true);
      const fewer = withoutUnusedScans(bytes, frame, 8);
      expect(fewer.length, chroma).toBeLessThan(bytes.length / 2);
      expect(Buffer.compare(Buffer.from(jpeg.decode(fewer, 8).data), Buffer.from(jpeg.decode(bytes, 8).data)), chroma).toBe(0);
      expect(withoutUnusedScans(bytes, frame, 4)).toBe(bytes); // 1/4 reads every scan
    }
  });

  it("changes nothing in a baseline JPEG; counts a multi-scan JPEG's coefficient memory at each scale", () => {
    const baseline = fixture("cat-320x240.jpg"), frame = readJpegFrame(baseline)!;
    expect(frame).toMatchObject({ progressive: false, multiScan: false });
    expect(withoutUnusedScans(baseline, frame, 8)).toBe(baseline);
    expect(coefficientBytes(frame, 1)).toBe(0);
    // 500x375 4:2:0: 16x16 MCUs, 32 x 24 of them; 4 luma + 2 chroma blocks each. Whole blocks (128
    // bytes) at 1 and 1/2; at 1/4 luma's IDCT is 2x2 (58 bytes), at 1/8 luma's is 1x1 (10 bytes) and
    // chroma's 2x2.
    const progressive = readJpegFrame(fixture("dog-500x375-progressive.jpg"))!, mcus = 32 * 24;
    expect(progressive).toMatchObject({ progressive: true, multiScan: true });
    expect(coefficientBytes(progressive, 1)).toBe(mcus * 6 * 128);
    expect(coefficientBytes(progressive, 2)).toBe(mcus * 6 * 128);
    expect(coefficientBytes(progressive, 4)).toBe(mcus * (4 * 58 + 2 * 128));
    expect(coefficientBytes(progressive, 8)).toBe(mcus * (4 * 10 + 2 * 58));
    // A sequential JPEG with a scan per component holds its coefficients as a progressive one does.
    const perComponent = Uint8Array.from(baseline);
    const sos = Buffer.from(perComponent).indexOf(Buffer.from([0xff, 0xda]));
    perComponent[sos + 4] = 1; // the first scan now names one component of three (the bytes after are not read)
    expect(readJpegFrame(perComponent)).toMatchObject({ progressive: false, multiScan: true });
  });

  it("admits a progressive photo of 50 MP at 1/8 in every usual layout (greyscale, 4:2:0, 4:2:2, 4:4:4, CMYK)", () => {
    for (const sampling of [[0x11], [0x22, 0x11, 0x11], [0x21, 0x11, 0x11], [0x11, 0x11, 0x11], [0x11, 0x11, 0x11, 0x11]]) {
      const frame = readJpegFrame(bombJpeg(10_000, 5000, { sof: 0xc2, sampling }))!;
      expect(decodeScaleDenom(10_000, 5000, [32, 32])).toBe(8);
      expect(coefficientBytes(frame, 8), sampling.join(",")).toBeLessThan(MAX_COEFFICIENT_BYTES);
      expect(coefficientBytes(frame, 1), sampling.join(",")).toBeGreaterThan(MAX_COEFFICIENT_BYTES); // whole blocks would not fit
    }
  });
});

describe("WebpDecoder", () => {
  const webp = () => new WebpDecoder(new WebAssembly.Module(readFileSync(WEBP_WASM_URL)));

  it("at full size gives sharp's pixels exactly (lossy and lossless with alpha); scaled to the rule's sizes", async () => {
    const decoder = webp();
    for (const file of ["dog.webp", "cat-alpha-lossless.webp"]) {
      const bytes = fixture(file);
      const full = decoder.decode(bytes, 1);
      const ref = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      expect([full.width, full.height, full.channels], file).toEqual([ref.info.width, ref.info.height, ref.info.channels]);
      expect(Buffer.compare(Buffer.from(full.data), ref.data), `${file}: pixels differ from sharp's`).toBe(0);
      for (const d of [2, 4, 8] as const) {
        const p = decoder.decode(bytes, d);
        expect({ width: p.width, height: p.height }, `${file} at 1/${d}`).toEqual(scaledSize(full.width, full.height, d));
      }
    }
  });

  it("reports libwebp's status for bad data and keeps working afterwards", () => {
    const decoder = webp(), good = fixture("dog.webp");
    expect(() => decoder.decode(good.subarray(0, good.length >> 1), 1)).toThrow(/not enough data|damaged/);
    expect(() => decoder.decode(Uint8Array.from(good, (b, i) => (i > 40 ? b ^ 0x55 : b)), 1)).toThrow(WebpDecodeError);
    expect(decoder.decode(good, 2).width).toBe(120);
  });
});
