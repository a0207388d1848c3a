// The small interface every kernel implementation provides. Layers call only these (plus plain loops
// for the cheap elementwise work), so a faster implementation (e.g. Wasm SIMD) can replace the
// TypeScript one without touching a layer. All arrays are flat Float32Arrays, row-major; offsets let
// a caller address one example of a batch without allocating a subarray view.
//
// Two levels: the primitives (gemm, im2col/col2im, pooling, ReLU) and whole-batch layer ops (conv and
// affine forward/backward) built from them. The layers call the layer ops: one call per layer and
// batch lets an implementation that works in its own memory (Wasm) copy each operand once per call
// and keep its intermediate matrices (the im2col columns) to itself.

import type { Param } from "../layers/layer.ts";
import type { Rng } from "../rng.ts";

/** Geometry of a convolution: input C x H x W, F filters of k x k, output F x OH x OW. */
export interface ConvShape {
  C: number; H: number; W: number;
  F: number; k: number; stride: number; pad: number;
  OH: number; OW: number;
}

/** A ConvShape from the usual numbers (the output size follows from them). */
export function convShape(C: number, H: number, W: number, F: number, k: number, stride: number, pad: number): ConvShape {
  return { C, H, W, F, k, stride, pad, OH: Math.floor((H + 2 * pad - k) / stride) + 1, OW: Math.floor((W + 2 * pad - k) / stride) + 1 };
}

export interface Kernels {
  /** Implementation name, reported by `bench` and `info`. */
  readonly name: string;

  /**
   * C[M x N] = op(A)[M x K] * op(B)[K x N]   (or += when `accumulate`).
   * op(A) = A stored [M x K], or A stored [K x M] when `transA`.
   * op(B) = B stored [K x N], or B stored [N x K] when `transB`.
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: Float32Array, aOff: number, B: Float32Array, bOff: number,
    C: Float32Array, cOff: number, accumulate: boolean,
  ): void;

  /**
   * One image [C x H x W] -> columns [(C*kh*kw) x (OH*OW)]; out-of-image taps (padding) are 0.
   */
  im2col(
    inp: Float32Array, inOff: number, C: number, H: number, W: number,
    kh: number, kw: number, stride: number, pad: number, OH: number, OW: number,
    col: Float32Array, colOff: number,
  ): void;

  /** The adjoint of im2col: ADDS each column entry back into dinp [C x H x W]. */
  col2im(
    col: Float32Array, colOff: number, C: number, H: number, W: number,
    kh: number, kw: number, stride: number, pad: number, OH: number, OW: number,
    dinp: Float32Array, dinpOff: number,
  ): void;

  /** Max pooling over `planes` planes of H x W; records the flat input index of each max. */
  maxpoolForward(
    inp: Float32Array, out: Float32Array, argmax: Int32Array,
    planes: number, H: number, W: number, size: number, stride: number, OH: number, OW: number,
  ): void;

  /** Routes each output gradient to its max: dinp is overwritten (zeroed first). */
  maxpoolBackward(dout: Float32Array, argmax: Int32Array, dinp: Float32Array, outLen: number): void;

  /** y[i] = x[i] < 0 ? 0 : x[i] for i < len (NaN passes through); x and y may be the same array. */
  reluForward(x: Float32Array, y: Float32Array, len: number): void;

  /** dx[i] = y[i] > 0 ? dy[i] : 0 for i < len. */
  reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, len: number): void;

  /**
   * Training-time (inverted) dropout of len values: for each i in order, u = rng.nextU32() and unit i
   * is kept when u / 2^32 < keep (exactly `rng.uniform() < keep`): mask[i] = 1 / keep, else 0, and
   * y[i] = x[i] * (1 / keep) or 0. Every implementation draws the same numbers in the same order and
   * leaves rng in the same state, so masks are bit-identical whichever kernels run.
   */
  dropoutForward(x: Float32Array, y: Float32Array, mask: Float32Array, len: number, keep: number, rng: Rng): void;

  /** out[i] = a[i] * b[i] for i < len: the backward of dropout (dy x mask) and of GELU (dy x slope). */
  multiply(a: Float32Array, b: Float32Array, out: Float32Array, len: number): void;

  /**
   * Per-channel statistics of n x C x HW values (channel c of example i is x[(i*C + c)*HW ...]):
   * mean[c] and the biased variance var[c] (mean of squared deviations, two passes) over n*HW values.
   */
  batchnormStats(x: Float32Array, n: number, C: number, HW: number, mean: Float32Array, variance: Float32Array): void;

  /** y = (x - mean[c]) * invstd[c] + bias[c] per channel (x and y may be the same array). */
  batchnormApply(x: Float32Array, y: Float32Array, n: number, C: number, HW: number, mean: Float32Array, invstd: Float32Array, bias: Float32Array): void;

  /**
   * Gradients of batchnormApply with batch statistics (mean and invstd of this same x): with
   * xhat = (x - mean) * invstd and m = n*HW, dbias[c] = sum dy and
   * dx = invstd * (dy - sum(dy)/m - xhat * sum(dy * xhat)/m) (dbias overwritten; dx unless null).
   */
  batchnormBackward(
    x: Float32Array, dy: Float32Array, dx: Float32Array | null, dbias: Float32Array,
    n: number, C: number, HW: number, mean: Float32Array, invstd: Float32Array,
  ): void;

  /**
   * Training: y = gelu(x) = x * Phi(x) (the exact, erf-based GELU) and its derivative slope =
   * gelu'(x) = Phi(x) + x * phi(x) for i < len, both relatively precise in the negative tail; x and y
   * may be the same array. The backward pass is then dx = dy * slope (multiply): the derivative costs
   * little more here, where Phi's exp is already being computed, and saves a second pass of exps.
   */
  geluForward(x: Float32Array, y: Float32Array, slope: Float32Array, len: number): void;
  /** y = gelu(x) for inference: may trade relative precision in the negative tail for speed (absolute error < 1e-6 x max(1, |x|)). */
  geluForwardFast(x: Float32Array, y: Float32Array, len: number): void;

  /**
   * Convolution of n images x [n x C x H x W] with weights w [F x C x k x k] and bias b [F]:
   * y [n x F x OH x OW] is overwritten.
   */
  convForward(x: Float32Array, w: Float32Array, b: Float32Array, y: Float32Array, n: number, s: ConvShape): void;

  /**
   * Gradients of convForward for the same x: dw [F x C x k x k] and db [F] are overwritten with the
   * sums over the batch; dx [n x C x H x W] is overwritten unless null.
   */
  convBackward(
    x: Float32Array, w: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array,
    dx: Float32Array | null, n: number, s: ConvShape,
  ): void;

  /** Fully connected: y [n x O] = x [n x I] * w^T + b, w [O x I] (overwrites y). */
  affineForward(x: Float32Array, w: Float32Array, b: Float32Array, y: Float32Array, n: number, I: number, O: number): void;

  /** dw [O x I] = dy^T x and db [O] = column sums of dy (overwritten); dx [n x I] = dy w unless null. */
  affineBackward(
    x: Float32Array, w: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array,
    dx: Float32Array | null, n: number, I: number, O: number,
  ): void;

  /**
   * Optional (inference): declares these parameters' values final. The kernels may move them into
   * their own memory (then `p.data` is replaced by a view of it, and may be replaced again later, so
   * read `p.data` afresh rather than keeping it) and keep derived forms such as transformed filters.
   * Changing the values afterwards is not supported: use Network.freeze(), which also stops training.
   */
  freezeParams?(params: Param[]): void;
}
