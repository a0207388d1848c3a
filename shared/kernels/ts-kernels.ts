// The plain TypeScript kernels: the reference every faster implementation is tested against, and the
// fallback where Wasm SIMD is missing. Written for speed within plain JS: the matrix product is
// blocked so a panel of B stays in cache, unrolled over K so each C element is loaded and stored once
// per four multiply-adds, and the transposed cases are handled in their natural loop orders rather
// than by copying (no allocation in any kernel).

import type { ConvShape, Kernels } from "./kernels.ts";

const NB = 256; // columns of C per block: 4 rows of B panel = 4 KiB, C row block 1 KiB

/** C[i, j0:j1] (+)= sum_k A(i,k) * B[k, j0:j1] for B stored [K x N]. aStrideK / aStrideI address A. */
function gemmRowsBN(
  M: number, N: number, K: number,
  A: Float32Array, aOff: number, aStrideI: number, aStrideK: number,
  B: Float32Array, bOff: number, C: Float32Array, cOff: number, accumulate: boolean,
): void {
  for (let j0 = 0; j0 < N; j0 += NB) {
    const j1 = Math.min(N, j0 + NB);
    for (let i = 0; i < M; i++) {
      const ci = cOff + i * N;
      if (!accumulate) for (let j = j0; j < j1; j++) C[ci + j] = 0;
      const ai = aOff + i * aStrideI;
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const a0 = A[ai + k * aStrideK], a1 = A[ai + (k + 1) * aStrideK];
        const a2 = A[ai + (k + 2) * aStrideK], a3 = A[ai + (k + 3) * aStrideK];
        const b0 = bOff + k * N, b1 = b0 + N, b2 = b1 + N, b3 = b2 + N;
        for (let j = j0; j < j1; j++) {
          C[ci + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
        }
      }
      for (; k < K; k++) {
        const a = A[ai + k * aStrideK];
        const b = bOff + k * N;
        for (let j = j0; j < j1; j++) C[ci + j] += a * B[b + j];
      }
    }
  }
}

/** C[i,j] (+)= dot(A row i, B row j) for A stored [M x K] and B stored [N x K]: contiguous dots. */
function gemmNT(
  M: number, N: number, K: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number,
  C: Float32Array, cOff: number, accumulate: boolean,
): void {
  // 2x2 register block: four dot products share each loaded A and B element.
  let i = 0;
  for (; i + 2 <= M; i += 2) {
    const a0 = aOff + i * K, a1 = a0 + K;
    let j = 0;
    for (; j + 2 <= N; j += 2) {
      const b0 = bOff + j * K, b1 = b0 + K;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k], x1 = A[a1 + k], y0 = B[b0 + k], y1 = B[b1 + k];
        s00 += x0 * y0; s01 += x0 * y1; s10 += x1 * y0; s11 += x1 * y1;
      }
      const c0 = cOff + i * N + j, c1 = c0 + N;
      if (accumulate) { C[c0] += s00; C[c0 + 1] += s01; C[c1] += s10; C[c1 + 1] += s11; }
      else { C[c0] = s00; C[c0 + 1] = s01; C[c1] = s10; C[c1 + 1] = s11; }
    }
    for (; j < N; j++) {
      const b0 = bOff + j * K;
      let s0 = 0, s1 = 0;
      for (let k = 0; k < K; k++) { const y = B[b0 + k]; s0 += A[a0 + k] * y; s1 += A[a1 + k] * y; }
      const c0 = cOff + i * N + j;
      if (accumulate) { C[c0] += s0; C[c0 + N] += s1; } else { C[c0] = s0; C[c0 + N] = s1; }
    }
  }
  for (; i < M; i++) {
    const a0 = aOff + i * K;
    for (let j = 0; j < N; j++) {
      const b0 = bOff + j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      const c = cOff + i * N + j;
      C[c] = accumulate ? C[c] + s : s;
    }
  }
}

/** Generic fallback for A and B both transposed (not used by the layers; kept for completeness). */
function gemmTT(
  M: number, N: number, K: number,
  A: Float32Array, aOff: number, B: Float32Array, bOff: number,
  C: Float32Array, cOff: number, accumulate: boolean,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[aOff + k * M + i] * B[bOff + j * K + k];
      const c = cOff + i * N + j;
      C[c] = accumulate ? C[c] + s : s;
    }
  }
}

// Scratch for one image's columns (conv forward and backward), grown on first use and then reused,
// so a training step at a fixed shape allocates nothing.
let colScratch = new Float32Array(0);
let dcolScratch = new Float32Array(0);
function scratch(len: number): Float32Array {
  if (colScratch.length < len) colScratch = new Float32Array(len);
  return colScratch;
}
function dscratch(len: number): Float32Array {
  if (dcolScratch.length < len) dcolScratch = new Float32Array(len);
  return dcolScratch;
}

export const tsKernels: Kernels = {
  name: "ts",

  gemm(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, accumulate) {
    if (!transB) {
      // A(i,k) at aOff + i*K + k (normal) or aOff + k*M + i (transposed).
      if (transA) gemmRowsBN(M, N, K, A, aOff, 1, M, B, bOff, C, cOff, accumulate);
      else gemmRowsBN(M, N, K, A, aOff, K, 1, B, bOff, C, cOff, accumulate);
    } else if (!transA) gemmNT(M, N, K, A, aOff, B, bOff, C, cOff, accumulate);
    else gemmTT(M, N, K, A, aOff, B, bOff, C, cOff, accumulate);
  },

  im2col(inp, inOff, C, H, W, kh, kw, stride, pad, OH, OW, col, colOff) {
    const L = OH * OW;
    let row = colOff;
    for (let c = 0; c < C; c++) {
      const plane = inOff + c * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++, row += L) {
          let o = row;
          for (let oy = 0; oy < OH; oy++) {
            const y = oy * stride - pad + ki;
            if (y < 0 || y >= H) {
              for (let ox = 0; ox < OW; ox++) col[o++] = 0;
              continue;
            }
            const src = plane + y * W;
            for (let ox = 0; ox < OW; ox++) {
              const x = ox * stride - pad + kj;
              col[o++] = x >= 0 && x < W ? inp[src + x] : 0;
            }
          }
        }
      }
    }
  },

  col2im(col, colOff, C, H, W, kh, kw, stride, pad, OH, OW, dinp, dinpOff) {
    const L = OH * OW;
    let row = colOff;
    for (let c = 0; c < C; c++) {
      const plane = dinpOff + c * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++, row += L) {
          let o = row;
          for (let oy = 0; oy < OH; oy++) {
            const y = oy * stride - pad + ki;
            if (y < 0 || y >= H) { o += OW; continue; }
            const dst = plane + y * W;
            for (let ox = 0; ox < OW; ox++, o++) {
              const x = ox * stride - pad + kj;
              if (x >= 0 && x < W) dinp[dst + x] += col[o];
            }
          }
        }
      }
    }
  },

  maxpoolForward(inp, out, argmax, planes, H, W, size, stride, OH, OW) {
    let o = 0;
    for (let p = 0; p < planes; p++) {
      const base = p * H * W;
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++, o++) {
          let best = base + oy * stride * W + ox * stride;
          let max = inp[best];
          for (let ky = 0; ky < size; ky++) {
            const r = base + (oy * stride + ky) * W + ox * stride;
            for (let kx = 0; kx < size; kx++) {
              const v = inp[r + kx];
              // `v !== v` picks up NaN and nothing replaces it: a NaN input stays visible downstream.
              if (v > max || v !== v) { max = v; best = r + kx; }
            }
          }
          out[o] = max;
          argmax[o] = best;
        }
      }
    }
  },

  maxpoolBackward(dout, argmax, dinp, outLen) {
    dinp.fill(0);
    for (let o = 0; o < outLen; o++) dinp[argmax[o]] += dout[o];
  },

  reluForward(x, y, len) {
    // `v < 0 ? 0 : v` lets NaN through (`v > 0 ? v : 0` would hide it as 0): the divergence check must see it.
    for (let i = 0; i < len; i++) { const v = x[i]; y[i] = v < 0 ? 0 : v; }
  },

  batchnormStats(x, n, C, HW, mean, variance) {
    const m = n * HW;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) for (let o = (i * C + c) * HW, e = o + HW; o < e; o++) sum += x[o];
      const mu = sum / m;
      let sq = 0;
      for (let i = 0; i < n; i++) for (let o = (i * C + c) * HW, e = o + HW; o < e; o++) { const d = x[o] - mu; sq += d * d; }
      mean[c] = mu;
      variance[c] = sq / m;
    }
  },

  batchnormApply(x, y, n, C, HW, mean, invstd, bias) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) {
        const mu = mean[c], s = invstd[c], b = bias[c];
        for (let o = (i * C + c) * HW, e = o + HW; o < e; o++) y[o] = (x[o] - mu) * s + b;
      }
    }
  },

  batchnormBackward(x, dy, dx, dbias, n, C, HW, mean, invstd) {
    const m = n * HW;
    for (let c = 0; c < C; c++) {
      const mu = mean[c], s = invstd[c];
      let sdy = 0, sdyx = 0;
      for (let i = 0; i < n; i++) {
        for (let o = (i * C + c) * HW, e = o + HW; o < e; o++) { sdy += dy[o]; sdyx += dy[o] * (x[o] - mu) * s; }
      }
      dbias[c] = sdy;
      if (!dx) continue;
      const a = sdy / m, b = sdyx / m;
      for (let i = 0; i < n; i++) {
        for (let o = (i * C + c) * HW, e = o + HW; o < e; o++) dx[o] = s * (dy[o] - a - (x[o] - mu) * s * b);
      }
    }
  },

  geluForward(x, y, slope, len) {
    const k = 1 / Math.sqrt(2 * Math.PI);
    for (let i = 0; i < len; i++) {
      const v = x[i], phi = 0.5 * (1 + erf(v * Math.SQRT1_2));
      y[i] = v * phi;
      slope[i] = phi + v * k * Math.exp(-0.5 * v * v);
    }
  },

  geluForwardFast(x, y, len) {
    for (let i = 0; i < len; i++) { const v = x[i]; y[i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2)); } // the reference is exact either way
  },

  reluBackward(y, dy, dx, len) {
    for (let i = 0; i < len; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
  },

  dropoutForward(x, y, mask, len, keep, rng) {
    const scale = 1 / keep;
    for (let i = 0; i < len; i++) {
      const m = rng.uniform() < keep ? scale : 0;
      mask[i] = m;
      y[i] = x[i] * m;
    }
  },

  multiply(a, b, out, len) {
    for (let i = 0; i < len; i++) out[i] = a[i] * b[i];
  },

  convForward(x, w, b, y, n, s) {
    const { C, H, W, F, k, stride, pad, OH, OW } = s;
    const K = C * k * k, L = OH * OW, col = scratch(K * L);
    for (let i = 0; i < n; i++) {
      tsKernels.im2col(x, i * C * H * W, C, H, W, k, k, stride, pad, OH, OW, col, 0);
      const yo = i * F * L;
      tsKernels.gemm(false, false, F, L, K, w, 0, col, 0, y, yo, false);
      for (let f = 0; f < F; f++) {
        const bf = b[f];
        for (let j = yo + f * L, e = j + L; j < e; j++) y[j] += bf;
      }
    }
  },

  convBackward(x, w, dy, dw, db, dx, n, s) {
    const { C, H, W, F, k, stride, pad, OH, OW } = s;
    const K = C * k * k, L = OH * OW, col = scratch(K * L), dcol = dscratch(K * L);
    db.fill(0);
    if (dx) dx.fill(0, 0, n * C * H * W);
    for (let i = 0; i < n; i++) {
      const yo = i * F * L;
      // dW += dy_i [F x L] * col_i^T [L x K]; the columns are recomputed (cheap next to the product).
      tsKernels.im2col(x, i * C * H * W, C, H, W, k, k, stride, pad, OH, OW, col, 0);
      tsKernels.gemm(false, true, F, K, L, dy, yo, col, 0, dw, 0, i > 0);
      for (let f = 0; f < F; f++) {
        let t = 0;
        for (let j = yo + f * L, e = j + L; j < e; j++) t += dy[j];
        db[f] += t;
      }
      if (dx) {
        // dcol = W^T [K x F] * dy_i [F x L], then scatter back to the image.
        tsKernels.gemm(true, false, K, L, F, w, 0, dy, yo, dcol, 0, false);
        tsKernels.col2im(dcol, 0, C, H, W, k, k, stride, pad, OH, OW, dx, i * C * H * W);
      }
    }
  },

  affineForward(x, w, b, y, n, I, O) {
    tsKernels.gemm(false, true, n, O, I, x, 0, w, 0, y, 0, false);
    for (let i = 0; i < n; i++) for (let o = 0; o < O; o++) y[i * O + o] += b[o];
  },

  affineBackward(x, w, dy, dw, db, dx, n, I, O) {
    // dW [O x I] = dy^T [O x n] * x [n x I]
    tsKernels.gemm(true, false, O, I, n, dy, 0, x, 0, dw, 0, false);
    db.fill(0);
    for (let i = 0; i < n; i++) for (let o = 0; o < O; o++) db[o] += dy[i * O + o];
    // dx [n x I] = dy [n x O] * W [O x I]
    if (dx) tsKernels.gemm(false, false, n, I, O, dy, 0, w, 0, dx, 0, false);
  },
};


/**
 * erf(x) to about 1e-7 (Abramowitz & Stegun 7.1.26 has 1.5e-7; this is W. J. Cody's form via
 * erfc = t * exp(-x^2 + poly(t)), Numerical Recipes' erfcc, fractional error < 1.2e-7).
 */
export function erf(x: number): number {
  const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}
