// Image preprocessing, one function for every place that classifies: decoded pixels (any size, RGB,
// RGBA or grey) -> the model's uint8 RGB input (centre crop to square, area-average resize) -> the
// float input tensor. The parameters live in the model file, so the trainer, the Worker and the
// widget do exactly what training did. All arithmetic is integer or float64 with one final rounding,
// so every runtime produces the same bytes.

export interface PreprocessSpec {
  /** Crop before resizing: "center" takes the largest centred square. */
  crop: "center";
  /** Resize method: "area" averages every source pixel that overlaps a target pixel (exact box filter). */
  resize: "area";
  /** Output [height, width]; equals the model's input height and width. */
  size: [number, number];
  /** Alpha is composited over this RGB colour (0..255) before anything else. */
  background: [number, number, number];
  /** Tensor value = (pixel * scale - mean[c]) / std[c]. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Test-time views every classifier averages by default (views.ts); absent = "none". */
  views?: "none" | "flip" | "flip-translate";
}

export function defaultPreprocess(size: [number, number] = [32, 32]): PreprocessSpec {
  return { crop: "center", resize: "area", size, background: [255, 255, 255], scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] };
}

/** Decoded pixels, row-major, interleaved: channels 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA). */
export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

export class PreprocessError extends Error {
  override name = "PreprocessError";
}

/** Flattens alpha over `background` and expands grey to RGB: the result has 3 channels. */
export function toRgb(img: Pixels, background: readonly [number, number, number] = [255, 255, 255]): Pixels {
  const { width, height, channels, data } = img;
  if (channels === 3) return img;
  const n = width * height, out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    let r: number, g: number, b: number, a: number;
    if (channels === 4) { r = data[4 * i]; g = data[4 * i + 1]; b = data[4 * i + 2]; a = data[4 * i + 3]; }
    else if (channels === 2) { r = g = b = data[2 * i]; a = data[2 * i + 1]; }
    else { r = g = b = data[i]; a = 255; }
    if (a === 255) { out[3 * i] = r; out[3 * i + 1] = g; out[3 * i + 2] = b; continue; }
    // Integer compositing with rounding: identical on every runtime.
    out[3 * i] = Math.round((r * a + background[0] * (255 - a)) / 255);
    out[3 * i + 1] = Math.round((g * a + background[1] * (255 - a)) / 255);
    out[3 * i + 2] = Math.round((b * a + background[2] * (255 - a)) / 255);
  }
  return { width, height, channels: 3, data: out };
}

/**
 * Centre-crops to a square and area-resizes to spec.size, returning uint8 RGB [h x w x 3]
 * (the form the trainer caches and the widget uploads).
 */
export function resizeToModel(img: Pixels, spec: PreprocessSpec): Uint8Array {
  const { width: W, height: H } = img;
  if (!(W >= 1 && H >= 1)) throw new PreprocessError(`image has no pixels (${W}x${H})`);
  if (img.data.length < W * H * img.channels) {
    throw new PreprocessError(`image data has ${img.data.length} bytes, expected ${W}x${H}x${img.channels} = ${W * H * img.channels}`);
  }
  const rgb = toRgb(img, spec.background).data;
  const [oh, ow] = spec.size;
  // Centre crop to the largest square (odd margins round down on the left/top).
  const side = Math.min(W, H), x0 = Math.floor((W - side) / 2), y0 = Math.floor((H - side) / 2);
  const out = new Uint8Array(oh * ow * 3);
  // Source extent of one target pixel, in source pixels (float; box filter with fractional edges).
  const sy = side / oh, sx = side / ow;
  const acc = new Float64Array(ow * 3);
  for (let ty = 0; ty < oh; ty++) {
    acc.fill(0);
    const fy0 = ty * sy, fy1 = fy0 + sy;
    for (let y = Math.floor(fy0); y < Math.ceil(fy1) && y < side; y++) {
      const wy = Math.min(y + 1, fy1) - Math.max(y, fy0);
      if (wy <= 0) continue;
      const row = ((y0 + y) * W + x0) * 3;
      for (let tx = 0; tx < ow; tx++) {
        const fx0 = tx * sx, fx1 = fx0 + sx;
        let r = 0, g = 0, b = 0;
        for (let x = Math.floor(fx0); x < Math.ceil(fx1) && x < side; x++) {
          const wx = Math.min(x + 1, fx1) - Math.max(x, fx0);
          if (wx <= 0) continue;
          const p = row + x * 3;
          r += wx * rgb[p]; g += wx * rgb[p + 1]; b += wx * rgb[p + 2];
        }
        acc[tx * 3] += wy * r; acc[tx * 3 + 1] += wy * g; acc[tx * 3 + 2] += wy * b;
      }
    }
    const norm = 1 / (sy * sx);
    for (let i = 0; i < ow * 3; i++) out[ty * ow * 3 + i] = Math.min(255, Math.max(0, Math.round(acc[i] * norm)));
  }
  return out;
}

/**
 * uint8 RGB [n x h x w x 3] (interleaved, as cached and uploaded) -> float NCHW tensor, written into
 * `out` at example offset `index` (so a batch can be filled without allocation).
 */
export function pixelsToTensor(
  rgb: Uint8Array, spec: PreprocessSpec, out: Float32Array = new Float32Array(rgb.length), index = 0,
): Float32Array {
  const [h, w] = spec.size, plane = h * w;
  if (rgb.length !== plane * 3) throw new PreprocessError(`expected ${h}x${w}x3 = ${plane * 3} bytes of RGB, got ${rgb.length}`);
  const base = index * plane * 3;
  for (let c = 0; c < 3; c++) {
    const s = spec.scale / spec.std[c], m = spec.mean[c] / spec.std[c], o = base + c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = rgb[i * 3 + c] * s - m;
  }
  return out;
}

/** Decoded image -> float NCHW input tensor for one example. */
export function preprocess(img: Pixels, spec: PreprocessSpec): Float32Array {
  return pixelsToTensor(resizeToModel(img, spec), spec);
}
