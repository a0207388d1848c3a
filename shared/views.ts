// Test-time views: a model can classify the average of several views of its input (airbench's TTA),
// the same way in `evaluate`, `predict`, the Worker and the widget. The logits of the views are
// averaged with fixed weights (airbench's "mirror + translate": the image and its mirror at 1/4 each,
// the two 1-pixel diagonal shifts, reflect-padded, and their mirrors at 1/8 each). A model file says
// which set it uses by default (preprocess.views); all views of a batch run as one forward pass.

import type { Network } from "./network.ts";
import { pixelsToTensor, type PreprocessSpec } from "./preprocess.ts";

export type ViewSet = "none" | "flip" | "flip-translate";
export const VIEW_SETS: readonly ViewSet[] = ["none", "flip", "flip-translate"];

export interface View { flip: boolean; dx: number; dy: number; weight: number }

export function viewsOf(set: ViewSet): View[] {
  switch (set) {
    case "none": return [{ flip: false, dx: 0, dy: 0, weight: 1 }];
    case "flip": return [{ flip: false, dx: 0, dy: 0, weight: 0.5 }, { flip: true, dx: 0, dy: 0, weight: 0.5 }];
    case "flip-translate": return [
      { flip: false, dx: 0, dy: 0, weight: 0.25 }, { flip: true, dx: 0, dy: 0, weight: 0.25 },
      { flip: false, dx: -1, dy: -1, weight: 0.125 }, { flip: true, dx: -1, dy: -1, weight: 0.125 },
      { flip: false, dx: 1, dy: 1, weight: 0.125 }, { flip: true, dx: 1, dy: 1, weight: 0.125 },
    ];
  }
}

/** The model's default views: preprocess.views, or "none" for models written before views existed. */
export function defaultViews(spec: PreprocessSpec): ViewSet {
  return spec.views ?? "none";
}

/** Mirrors an out-of-range coordinate back inside [0, n) (PyTorch's "reflect": the edge is not repeated). */
const reflect = (v: number, n: number): number => (v < 0 ? -v : v >= n ? 2 * n - 2 - v : v);

/**
 * out(y, x) = in(y + dy, x' + dx), x' = x mirrored when `flip`, for uint8 RGB h x w; what a shift
 * brings in is black, or the mirrored pixels when `reflectPad`.
 */
export function shiftFlip(src: Uint8Array, out: Uint8Array, h: number, w: number, dx: number, dy: number, flip: boolean, reflectPad = false): void {
  for (let y = 0; y < h; y++) {
    const sy = reflectPad ? reflect(y + dy, h) : y + dy;
    for (let x = 0; x < w; x++) {
      const sx = reflectPad ? reflect((flip ? w - 1 - x : x) + dx, w) : (flip ? w - 1 - x : x) + dx;
      const o = (y * w + x) * 3;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) { out[o] = 0; out[o + 1] = 0; out[o + 2] = 0; continue; }
      const s = (sy * w + sx) * 3;
      out[o] = src[s]; out[o + 1] = src[s + 1]; out[o + 2] = src[s + 2];
    }
  }
}

/**
 * Logits [n x classes] of n uint8 RGB model inputs (each h x w x 3, from `image(k)`), averaged over
 * the views: one forward pass of n * views examples.
 */
export function forwardViews(net: Network, n: number, image: (k: number) => Uint8Array, spec: PreprocessSpec, set: ViewSet): Float32Array {
  const views = viewsOf(set), V = views.length, [h, w] = spec.size, classes = net.classes;
  const x = new Float32Array(n * V * net.inputSize), scratch = new Uint8Array(h * w * 3);
  for (let k = 0; k < n; k++) {
    const rgb = image(k);
    views.forEach((v, j) => {
      if (!v.flip && v.dx === 0 && v.dy === 0) pixelsToTensor(rgb, spec, x, k * V + j);
      else { shiftFlip(rgb, scratch, h, w, v.dx, v.dy, v.flip, true); pixelsToTensor(scratch, spec, x, k * V + j); }
    });
  }
  const all = net.forward(x, n * V);
  const out = new Float32Array(n * classes);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < V; j++) {
      const wgt = views[j].weight, o = (k * V + j) * classes;
      for (let c = 0; c < classes; c++) out[k * classes + c] += wgt * all[o + c];
    }
  }
  return out;
}
