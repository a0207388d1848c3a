import { describe, expect, it } from "vitest";
import { defaultPreprocess, pixelsToTensor, PreprocessError, resizeToModel, toRgb, type Pixels } from "../../shared/index.ts";

const spec = defaultPreprocess([4, 4]);

function solid(width: number, height: number, rgb: [number, number, number]): Pixels {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, channels: 3, data };
}

describe("toRgb", () => {
  it("composites alpha over the background with integer rounding", () => {
    const rgba: Pixels = { width: 3, height: 1, channels: 4, data: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 255, 200, 100, 50, 128]) };
    expect(Array.from(toRgb(rgba, [255, 255, 255]).data)).toEqual([255, 255, 255, 0, 0, 0, 227, 177, 152]);
    expect(Array.from(toRgb(rgba, [0, 0, 0]).data.slice(0, 3))).toEqual([0, 0, 0]);
  });

  it("expands grey and grey+alpha to RGB", () => {
    expect(Array.from(toRgb({ width: 2, height: 1, channels: 1, data: new Uint8Array([7, 250]) }).data)).toEqual([7, 7, 7, 250, 250, 250]);
    expect(Array.from(toRgb({ width: 1, height: 1, channels: 2, data: new Uint8Array([0, 0]) }).data)).toEqual([255, 255, 255]);
  });
});

describe("resizeToModel", () => {
  it("is the identity when the image already has the model's size", () => {
    const img: Pixels = { width: 4, height: 4, channels: 3, data: new Uint8Array(48).map((_, i) => (i * 37) % 256) };
    expect(Array.from(resizeToModel(img, spec))).toEqual(Array.from(img.data));
  });

  it("averages exact 2x2 blocks when halving", () => {
    const img: Pixels = { width: 8, height: 8, channels: 3, data: new Uint8Array(192) };
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) img.data[(y * 8 + x) * 3] = (x % 2) * 100 + (y % 2) * 10; // 0,100,10,110
    const out = resizeToModel(img, spec);
    for (let i = 0; i < 16; i++) expect(out[i * 3]).toBe(55); // (0+100+10+110)/4
  });

  it("centre-crops a wide image to its middle square", () => {
    // 12x4: left 4 columns red, middle 4 green, right 4 blue -> only green survives.
    const img = solid(12, 4, [0, 0, 0]);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 12; x++) img.data[(y * 12 + x) * 3 + Math.floor(x / 4)] = 255;
    const out = resizeToModel(img, spec);
    for (let i = 0; i < 16; i++) expect(Array.from(out.slice(i * 3, i * 3 + 3))).toEqual([0, 255, 0]);
  });

  it("keeps a constant image constant at non-integer ratios, up and down", () => {
    for (const [w, h] of [[100, 77], [33, 1023], [3, 3], [1, 1], [5, 9]]) {
      const out = resizeToModel(solid(w, h, [10, 20, 30]), defaultPreprocess([32, 32]));
      expect(out.length).toBe(32 * 32 * 3);
      for (let i = 0; i < 32 * 32; i++) expect(Array.from(out.slice(i * 3, i * 3 + 3)), `${w}x${h}`).toEqual([10, 20, 30]);
    }
  });

  it("preserves the mean brightness when downscaling by a non-integer factor", () => {
    const img: Pixels = { width: 45, height: 45, channels: 1, data: new Uint8Array(45 * 45).map((_, i) => (i * 7919) % 256) };
    const out = resizeToModel(img, defaultPreprocess([32, 32]));
    const mean = (a: ArrayLike<number>, step: number) => { let s = 0; for (let i = 0; i < a.length; i += step) s += a[i]; return s / (a.length / step); };
    expect(Math.abs(mean(out, 3) - mean(img.data, 1))).toBeLessThan(0.5);
  });

  it("rejects an empty image and short pixel data with the sizes in the message", () => {
    expect(() => resizeToModel({ width: 0, height: 5, channels: 3, data: new Uint8Array(0) }, spec)).toThrow(new PreprocessError("image has no pixels (0x5)"));
    expect(() => resizeToModel({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }, spec)).toThrow("image data has 5 bytes, expected 2x2x3 = 12");
  });
});

describe("pixelsToTensor", () => {
  it("writes CHW planes scaled to [0, 1] at the example's offset", () => {
    const rgb = new Uint8Array(48);
    rgb[0] = 255; rgb[1] = 51; rgb[2] = 0; // pixel (0,0): r=1, g=0.2, b=0
    const out = new Float32Array(2 * 48);
    pixelsToTensor(rgb, spec, out, 1);
    expect(out[48]).toBe(1);
    expect(out[48 + 16]).toBeCloseTo(0.2, 7);
    expect(out[48 + 32]).toBe(0);
    expect(out.subarray(0, 48).every((v) => v === 0)).toBe(true);
  });

  it("applies mean and std", () => {
    const s = { ...spec, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.5, 1] as [number, number, number] };
    const out = pixelsToTensor(new Uint8Array(48).fill(255), s);
    expect([out[0], out[16], out[32]]).toEqual([2, 1, 0.5]);
  });

  it("rejects pixel data of the wrong length", () => {
    expect(() => pixelsToTensor(new Uint8Array(47), spec)).toThrow("expected 4x4x3 = 48 bytes of RGB, got 47");
  });
});
