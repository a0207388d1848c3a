// Turns examples of a Dataset into float input batches, with optional augmentation. Buffers are sized
// once for the batch size, so making a batch allocates nothing.
//
// Augmentation (the usual CIFAR recipe): pad the image with `pad` black pixels on every side, take a
// random crop of the original size, and flip it horizontally with probability 1/2.

import { pixelsToTensor, type PreprocessSpec } from "../../shared/preprocess.ts";
import type { Rng } from "../../shared/rng.ts";
import type { Dataset } from "../dataset/dataset.ts";

export interface Augmentation {
  flip: boolean;
  /** Maximum shift in pixels (random crop with this much zero padding); 0 = none. */
  pad: number;
}

export const NO_AUGMENTATION: Augmentation = { flip: false, pad: 0 };

export class BatchMaker {
  readonly x: Float32Array;
  readonly labels: Int32Array;
  private readonly scratch: Uint8Array;
  private readonly exampleBytes: number;

  /** `storage`: arrays to fill instead of new ones (shared memory that worker threads read). */
  constructor(readonly ds: Dataset, readonly batch: number, readonly spec: PreprocessSpec, storage?: { x: Float32Array; labels: Int32Array }) {
    const [h, w] = ds.size;
    if (spec.size[0] !== h || spec.size[1] !== w) {
      throw new Error(`dataset examples are ${h}x${w} but the model expects ${spec.size[0]}x${spec.size[1]}`);
    }
    this.exampleBytes = h * w * 3;
    this.x = storage?.x ?? new Float32Array(batch * this.exampleBytes);
    this.labels = storage?.labels ?? new Int32Array(batch);
    if (this.x.length < batch * this.exampleBytes || this.labels.length < batch) throw new RangeError(`batch storage is too small for ${batch} examples`);
    this.scratch = new Uint8Array(this.exampleBytes);
  }

  /** Fills x and labels with the mirror images of order[start .. start+n) (test-time flip averaging). */
  fillMirrored(order: ArrayLike<number>, start: number, n: number): void {
    const { ds, exampleBytes } = this;
    for (let k = 0; k < n; k++) {
      const i = order[start + k];
      this.labels[k] = ds.labels[i];
      shiftFlip(ds.images.subarray(i * exampleBytes, (i + 1) * exampleBytes), this.scratch, ds.size[0], ds.size[1], 0, 0, true);
      pixelsToTensor(this.scratch, this.spec, this.x, k);
    }
  }

  /** Fills x and labels with the examples order[start .. start+n); returns n. */
  fill(order: ArrayLike<number>, start: number, n: number, aug: Augmentation = NO_AUGMENTATION, rng?: Rng): number {
    const { ds, exampleBytes } = this;
    for (let k = 0; k < n; k++) {
      const i = order[start + k];
      const src = ds.images.subarray(i * exampleBytes, (i + 1) * exampleBytes);
      this.labels[k] = ds.labels[i];
      if (rng && (aug.flip || aug.pad > 0)) {
        const dx = aug.pad > 0 ? rng.int(2 * aug.pad + 1) - aug.pad : 0;
        const dy = aug.pad > 0 ? rng.int(2 * aug.pad + 1) - aug.pad : 0;
        const flip = aug.flip && rng.uniform() < 0.5;
        shiftFlip(src, this.scratch, ds.size[0], ds.size[1], dx, dy, flip);
        pixelsToTensor(this.scratch, this.spec, this.x, k);
      } else {
        pixelsToTensor(src, this.spec, this.x, k);
      }
    }
    return n;
  }
}

/** out(y, x) = in(y + dy, x' + dx) where x' is x mirrored when `flip`; outside the image is black. */
export function shiftFlip(src: Uint8Array, out: Uint8Array, h: number, w: number, dx: number, dy: number, flip: boolean): void {
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    for (let x = 0; x < w; x++) {
      const sx = (flip ? w - 1 - x : x) + dx;
      const o = (y * w + x) * 3;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) { out[o] = 0; out[o + 1] = 0; out[o + 2] = 0; continue; }
      const s = (sy * w + sx) * 3;
      out[o] = src[s]; out[o + 1] = src[s + 1]; out[o + 2] = src[s + 2];
    }
  }
}
