// Turns examples of a Dataset into float input batches, with optional augmentation. Buffers are sized
// once for the batch size, so making a batch allocates nothing.
//
// Augmentation (the usual CIFAR recipe): pad the image with `pad` black pixels on every side, take a
// random crop of the original size, and flip it horizontally with probability 1/2.

import { pixelsToTensor, type PreprocessSpec } from "../../shared/preprocess.ts";
import type { Rng } from "../../shared/rng.ts";
import { shiftFlip } from "../../shared/views.ts";
import type { Dataset } from "../dataset/dataset.ts";

export interface Augmentation {
  flip: boolean;
  /** Maximum shift in pixels (random crop with this much zero padding); 0 = none. */
  pad: number;
  /** "random" (default): each image flipped with probability 1/2 every time. "alternate" (airbench):
   *  each image gets a fixed random flip, inverted every other epoch, so it is seen both ways. */
  flipMode?: "random" | "alternate";
  /** What a shift brings in at the border: "zero" (default, black) or "reflect" (mirrored pixels). */
  padMode?: "zero" | "reflect";
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

  /** Fills x and labels with the examples order[start .. start+n); returns n. `epoch` (0-based) and
   *  `seed` set the alternating flips. */
  fill(order: ArrayLike<number>, start: number, n: number, aug: Augmentation = NO_AUGMENTATION, rng?: Rng, epoch = 0, seed = 0): number {
    const { ds, exampleBytes } = this;
    for (let k = 0; k < n; k++) {
      const i = order[start + k];
      const src = ds.images.subarray(i * exampleBytes, (i + 1) * exampleBytes);
      this.labels[k] = ds.labels[i];
      if (rng && (aug.flip || aug.pad > 0)) {
        const dx = aug.pad > 0 ? rng.int(2 * aug.pad + 1) - aug.pad : 0;
        const dy = aug.pad > 0 ? rng.int(2 * aug.pad + 1) - aug.pad : 0;
        const flip = aug.flip && (aug.flipMode === "alternate" ? ((baseFlip(i, seed) ^ epoch) & 1) === 1 : rng.uniform() < 0.5);
        shiftFlip(src, this.scratch, ds.size[0], ds.size[1], dx, dy, flip, aug.padMode === "reflect");
        pixelsToTensor(this.scratch, this.spec, this.x, k);
      } else {
        pixelsToTensor(src, this.spec, this.x, k);
      }
    }
    return n;
  }
}

/** Image i's own flip bit for alternating flips (a hash of the image index and the seed). */
export function baseFlip(i: number, seed: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seed + 1, 0xc2b2ae35);
  h ^= h >>> 15; h = Math.imul(h, 0x2c1b3c6d); h ^= h >>> 12;
  return (h >>> 7) & 1;
}

