// Convolution. Weights [F x C x kh x kw] (the ONNX/PyTorch layout), bias [F] unless the spec says
// bias: false (a batchnorm follows and its bias does the job). The arithmetic is the kernels'
// convForward / convBackward (im2col + matrix product in the TS reference); the layer holds only the
// shape and the parameters. A whitening conv (init "whiten") has fixed weights computed from the
// training images: only its bias is learned.

import { convShape, type ConvShape, type Kernels } from "../kernels/kernels.ts";
import type { ConvInit, Shape } from "../spec.ts";
import { makeParam, type ForwardContext, type Layer, type Param } from "./layer.ts";

export class ConvLayer implements Layer {
  readonly params: Param[];
  readonly weight: Param;
  readonly bias: Param | null;
  private readonly shape: ConvShape;
  private readonly zeroBias: Float32Array; // passed to the kernels when there is no bias
  private readonly scratchBiasGrad: Float32Array;

  constructor(
    readonly name: string, readonly inShape: Shape, readonly outShape: Shape,
    readonly size: number, readonly stride: number, readonly pad: number,
    readonly hasBias = true, readonly init: ConvInit = "he",
  ) {
    const whiten = init === "whiten";
    this.weight = makeParam(`${name}.weight`, [outShape[0], inShape[0], size, size], whiten ? { trainable: false } : {});
    this.bias = hasBias ? makeParam(`${name}.bias`, [outShape[0]], whiten ? { group: "whiten" } : {}) : null;
    this.params = this.bias ? [this.weight, this.bias] : [this.weight];
    this.shape = convShape(inShape[0], inShape[1], inShape[2], outShape[0], size, stride, pad);
    this.zeroBias = new Float32Array(outShape[0]);
    this.scratchBiasGrad = new Float32Array(outShape[0]);
  }

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number, { kernels }: ForwardContext): void {
    kernels.convForward(x, this.weight.data, this.bias ? this.bias.data : this.zeroBias, y, n, this.shape);
  }

  backward(x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    kernels.convBackward(x, this.weight.data, dy, this.weight.grad, this.bias ? this.bias.grad : this.scratchBiasGrad, dx, n, this.shape);
    if (this.weight.trainable === false) this.weight.grad.fill(0); // fixed filters: nothing to learn
  }
}
