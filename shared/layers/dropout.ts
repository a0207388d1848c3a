// Dropout, active only while training. Convention: "inverted" dropout. Kept units are scaled by
// 1/(1-ratio) at training time, so the expected activation is unchanged and inference is the identity:
// the Worker, the browser and the ONNX export need no dropout node and no rescaling at all.

import type { Kernels } from "../kernels/kernels.ts";
import { tsKernels } from "../kernels/ts-kernels.ts";
import { Rng } from "../rng.ts";
import type { Shape } from "../spec.ts";
import type { ForwardContext, Layer, MaskStreams } from "./layer.ts";

/** Per-example views of one forward's input, output and mask (remade only when the buffers change). */
interface ExampleViews {
  x: Float32Array;
  y: Float32Array;
  xs: Float32Array[];
  ys: Float32Array[];
  masks: Float32Array[];
}

export class DropoutLayer implements Layer {
  readonly params = [];
  private mask = new Float32Array(0); // 0 or 1/(1-ratio) per unit of the last training forward
  private readonly units: number;
  private readonly streamId: number; // this layer's part of a per-example stream name
  private readonly streamRng = new Rng();
  private views: ExampleViews | null = null;

  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape, readonly ratio: number) {
    this.units = inShape[0] * inShape[1] * inShape[2];
    this.streamId = fnv1a(name);
  }

  resize(n: number): void {
    this.mask = new Float32Array(n * this.units);
    this.views = null;
  }

  forward(x: Float32Array, y: Float32Array, n: number, { train, rng, kernels, masks }: ForwardContext): void {
    const len = n * this.units;
    if (!train || this.ratio === 0) {
      if (x !== y) y.set(x.subarray(0, len));
      this.mask.fill(1);
      return;
    }
    if (masks) { this.perExample(x, y, n, masks, kernels); return; }
    // The mask comes from the network's rng in order (bit-identical on every kernel implementation).
    kernels.dropoutForward(x, y, this.mask, len, 1 - this.ratio, rng);
  }

  /** Each example's mask from its own stream: one kernel call per example on views made once. */
  private perExample(x: Float32Array, y: Float32Array, n: number, masks: MaskStreams, kernels: Kernels): void {
    const v = this.viewsOf(x, y, n);
    for (let k = 0; k < n; k++) {
      this.streamRng.setStream(masks.key, masks.step, masks.first + k, this.streamId);
      kernels.dropoutForward(v.xs[k], v.ys[k], v.masks[k], this.units, 1 - this.ratio, this.streamRng);
    }
  }

  private viewsOf(x: Float32Array, y: Float32Array, n: number): ExampleViews {
    if (this.views?.x === x && this.views.y === y && this.views.xs.length === n) return this.views;
    const u = this.units, at = (a: Float32Array) => Array.from({ length: n }, (_, k) => a.subarray(k * u, (k + 1) * u));
    this.views = { x, y, xs: at(x), ys: at(y), masks: at(this.mask) };
    return this.views;
  }

  backward(_x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels = tsKernels): void {
    if (!dx) return;
    kernels.multiply(dy, this.mask, dx, n * this.units);
  }
}

/** FNV-1a of a string: a stable 32-bit id for a layer name ("dropout2"). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
