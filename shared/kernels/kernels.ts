// The small interface every kernel implementation provides. Layers call only these (plus plain loops
// for the cheap elementwise work), so a faster implementation (e.g. Wasm SIMD) can replace the
// TypeScript one without touching a layer. All arrays are flat Float32Arrays, row-major; offsets let
// a caller address one example of a batch without allocating a subarray view.

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
}
