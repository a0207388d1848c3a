// The one interface every layer implements (ConvNetJS-style): a forward/backward pair on flat NCHW
// Float32Arrays, plus its parameters and their gradients. The network owns the activation buffers
// and hands each layer its input x, output y and their gradients; a layer owns only the scratch it
// needs (im2col columns, pooling argmax, dropout mask), sized once per batch size in `resize`.

import type { Kernels } from "../kernels/kernels.ts";
import type { Rng, RngState } from "../rng.ts";
import type { Shape } from "../spec.ts";

/** A learnable tensor and its gradient (same length); dim 0 is the output channels / units. */
export interface Param {
  name: string; // "conv1.weight"
  shape: number[];
  data: Float32Array;
  grad: Float32Array;
  /** false: state, not learned (batchnorm running statistics, the whitening filters); optimisers skip it. */
  trainable?: boolean;
  /** Optimiser parameter group (a per-group learning-rate multiplier): "norm" for batchnorm biases,
   *  "whiten" for the whitening conv's bias; absent for the rest. */
  group?: string;
}

export interface ForwardContext {
  kernels: Kernels;
  train: boolean;
  rng: Rng; // dropout masks, drawn in order (unless `masks` is given)
  masks?: MaskStreams;
}

/**
 * Per-example dropout streams: example k of the batch draws its mask in layer L from the stream
 * (step, first + k, L) under `key` (Rng.setStream), so the masks do not depend on how a batch is cut
 * into parts or spread over threads. `first` is the batch index of this part's first example.
 */
export interface MaskStreams {
  key: RngState;
  step: number;
  first: number;
}

export interface Layer {
  readonly name: string;
  readonly inShape: Shape;
  readonly outShape: Shape;
  readonly params: Param[];
  /** Allocates batch-size-dependent scratch. Called by the network only when n changes. */
  resize(n: number): void;
  forward(x: Float32Array, y: Float32Array, n: number, ctx: ForwardContext): void;
  /** Writes dx (unless null: the first layer's input gradient is never needed) and overwrites
   *  the params' grads. x and y are the forward input and output of the same batch. */
  backward(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void;
}

export function makeParam(name: string, shape: number[], extra: { trainable?: boolean; group?: string } = {}): Param {
  const size = shape.reduce((a, b) => a * b, 1);
  return { name, shape, data: new Float32Array(size), grad: new Float32Array(size), ...extra };
}
