// Batch normalisation over the channels of C x H x W, with the scale fixed at 1 and a learned bias
// (airbench's choice: the next conv's weights carry the scale). Training normalises with the batch's
// own mean and variance; inference with the running statistics `mean` and `var`, which are state, not
// learned (trainable: false): they are set by calibrate(), a pass over training batches that averages
// their statistics, so they do not depend on how a batch was spread over threads. For inference the
// layer is folded into the convolution before it (fold-batchnorm.ts).

import type { Kernels } from "../kernels/kernels.ts";
import type { Shape } from "../spec.ts";
import { makeParam, type ForwardContext, type Layer, type Param } from "./layer.ts";

export class BatchnormLayer implements Layer {
  readonly params: Param[];
  readonly bias: Param;
  readonly mean: Param;
  readonly variance: Param;
  private readonly batchMean: Float32Array;
  private readonly batchVar: Float32Array;
  private readonly invstd: Float32Array;
  private readonly runningInvstd: Float32Array;
  /** While calibrating: sums of the batch means and variances seen, and how many batches. */
  private calibration: { mean: Float64Array; variance: Float64Array; batches: number } | null = null;

  constructor(readonly name: string, readonly inShape: Shape, readonly outShape: Shape, readonly eps = 1e-5) {
    const C = inShape[0];
    this.bias = makeParam(`${name}.bias`, [C], { group: "norm" });
    this.mean = makeParam(`${name}.mean`, [C], { trainable: false });
    this.variance = makeParam(`${name}.var`, [C], { trainable: false });
    this.variance.data.fill(1);
    this.params = [this.bias, this.mean, this.variance];
    this.batchMean = new Float32Array(C);
    this.batchVar = new Float32Array(C);
    this.invstd = new Float32Array(C);
    this.runningInvstd = new Float32Array(C);
  }

  resize(): void {}

  forward(x: Float32Array, y: Float32Array, n: number, { kernels, train }: ForwardContext): void {
    const [C, H, W] = this.inShape, HW = H * W;
    if (train || this.calibration) {
      kernels.batchnormStats(x, n, C, HW, this.batchMean, this.batchVar);
      invstdOf(this.batchVar, this.eps, this.invstd);
      kernels.batchnormApply(x, y, n, C, HW, this.batchMean, this.invstd, this.bias.data);
      const cal = this.calibration;
      if (cal) {
        for (let c = 0; c < C; c++) { cal.mean[c] += this.batchMean[c]; cal.variance[c] += this.batchVar[c]; }
        cal.batches++;
      }
      return;
    }
    invstdOf(this.variance.data, this.eps, this.runningInvstd);
    kernels.batchnormApply(x, y, n, C, HW, this.mean.data, this.runningInvstd, this.bias.data);
  }

  backward(x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number, kernels: Kernels): void {
    const [C, H, W] = this.inShape;
    kernels.batchnormBackward(x, dy, dx, this.bias.grad, n, C, H * W, this.batchMean, this.invstd);
  }

  /** Starts averaging the statistics of the next forward passes (which then use batch statistics). */
  startCalibration(): void {
    const C = this.inShape[0];
    this.calibration = { mean: new Float64Array(C), variance: new Float64Array(C), batches: 0 };
  }

  /** Sets the running statistics to the averages since startCalibration (unchanged if none were seen). */
  finishCalibration(): void {
    const cal = this.calibration;
    this.calibration = null;
    if (!cal || cal.batches === 0) return;
    for (let c = 0; c < this.inShape[0]; c++) {
      this.mean.data[c] = cal.mean[c] / cal.batches;
      this.variance.data[c] = cal.variance[c] / cal.batches;
    }
  }
}

/** invstd[c] = 1 / sqrt(var[c] + eps), in float32 as every implementation uses it. */
export function invstdOf(variance: Float32Array, eps: number, out: Float32Array): void {
  for (let c = 0; c < variance.length; c++) out[c] = 1 / Math.sqrt(variance[c] + eps);
}
