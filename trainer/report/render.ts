// SVG -> PNG with sharp (librsvg), and sample pixels -> PNG data URIs for the sample grid.

import sharp from "sharp";
import type { Sample } from "./types.ts";

/** Render an SVG at `scale` times its layout size (density 72 * scale) to PNG bytes. */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale }).png({ compressionLevel: 9 }).toBuffer();
}

/** Nearest-neighbour upscale of uint8 RGB (h x w x 3 interleaved) by an integer factor. */
export function upscaleNearest(rgb: Uint8Array, h: number, w: number, f: number): Uint8Array {
  const W = w * f, out = new Uint8Array(h * f * W * 3);
  for (let y = 0; y < h * f; y++) {
    const sy = Math.floor(y / f);
    for (let x = 0; x < W; x++) {
      const s = (sy * w + Math.floor(x / f)) * 3, d = (y * W + x) * 3;
      out[d] = rgb[s]; out[d + 1] = rgb[s + 1]; out[d + 2] = rgb[s + 2];
    }
  }
  return out;
}

/** A data: URI of the sample as a PNG, upscaled (nearest neighbour) by the integer `factor`, so that
 *  no smoothing happens when it is drawn at that size. */
export async function sampleHref(s: Sample, factor: number): Promise<string> {
  const [h, w] = s.size;
  const f = Math.max(1, Math.round(factor));
  const px = f > 1 ? upscaleNearest(s.rgb, h, w, f) : s.rgb;
  const png = await sharp(Buffer.from(px.buffer, px.byteOffset, px.byteLength), { raw: { width: w * f, height: h * f, channels: 3 } }).png().toBuffer();
  return `data:image/png;base64,${png.toString("base64")}`;
}
