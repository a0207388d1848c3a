// One conformance suite for every kernel implementation (Hono's router pattern): each implementation
// must agree with the naive definitions below on random shapes, including awkward ones (1, odd
// sizes, non-multiples of 4 and of the block size), forward and backward.

import { describe, expect, it } from "vitest";
import { Rng, tsKernels, type Kernels } from "../../shared/index.ts";

export const IMPLEMENTATIONS: Kernels[] = [tsKernels];

/** Max |a - b| relative to max(1, |b|): float32 sums in a different order differ by ~1e-6 relative. */
function maxRelDiff(a: Float32Array, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}
const TOL = 1e-5;

const rand = (n: number, rng: Rng) => new Float32Array(n).map(() => rng.uniform() * 2 - 1);

function naiveGemm(tA: boolean, tB: boolean, M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array, acc: boolean): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = acc ? C[i * N + j] : 0;
    for (let k = 0; k < K; k++) s += (tA ? A[k * M + i] : A[i * K + k]) * (tB ? B[j * K + k] : B[k * N + j]);
    out[i * N + j] = s;
  }
  return out;
}

function naiveIm2col(x: Float32Array, C: number, H: number, W: number, k: number, s: number, p: number, OH: number, OW: number): Float64Array {
  const col = new Float64Array(C * k * k * OH * OW);
  for (let c = 0; c < C; c++) for (let ki = 0; ki < k; ki++) for (let kj = 0; kj < k; kj++) {
    const row = (c * k + ki) * k + kj;
    for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
      const y = oy * s - p + ki, xx = ox * s - p + kj;
      col[row * OH * OW + oy * OW + ox] = y >= 0 && y < H && xx >= 0 && xx < W ? x[(c * H + y) * W + xx] : 0;
    }
  }
  return col;
}

const gemmShapes: Array<[number, number, number]> = [
  [1, 1, 1], [1, 7, 3], [5, 1, 9], [3, 5, 4], [16, 1024, 27], [7, 259, 13], [33, 17, 65], [2, 300, 5], [10, 3, 1024],
];
const convShapes: Array<[number, number, number, number, number, number]> = [
  // C, H, W, k, stride, pad
  [3, 32, 32, 3, 1, 1], [1, 1, 1, 1, 1, 0], [2, 7, 5, 3, 2, 1], [4, 6, 9, 5, 1, 2], [1, 8, 7, 2, 3, 0], [3, 5, 5, 3, 1, 3],
];

for (const k of IMPLEMENTATIONS) {
  describe(`kernel conformance: ${k.name}`, () => {
    const rng = new Rng(17);
    for (const [M, N, K] of gemmShapes) {
      for (const tA of [false, true]) for (const tB of [false, true]) for (const acc of [false, true]) {
        it(`gemm ${tA ? "T" : "N"}${tB ? "T" : "N"} ${M}x${N}x${K}${acc ? " accumulate" : ""}`, () => {
          const A = rand(M * K + 3, rng), B = rand(K * N + 5, rng), C = rand(M * N + 2, rng);
          const aOff = 3, bOff = 5, cOff = 2;
          const want = naiveGemm(tA, tB, M, N, K, A.subarray(aOff), B.subarray(bOff), C.subarray(cOff), acc);
          const before = C[0];
          k.gemm(tA, tB, M, N, K, A, aOff, B, bOff, C, cOff, acc);
          expect(maxRelDiff(C.subarray(cOff), want)).toBeLessThan(TOL);
          expect(C[0]).toBe(before); // nothing written before the offset
        });
      }
    }

    for (const [C, H, W, ks, s, p] of convShapes) {
      const OH = Math.floor((H + 2 * p - ks) / s) + 1, OW = Math.floor((W + 2 * p - ks) / s) + 1;
      it(`im2col / col2im ${C}x${H}x${W} k${ks} s${s} p${p}`, () => {
        const x = rand(C * H * W, rng);
        const col = new Float32Array(1 + C * ks * ks * OH * OW);
        k.im2col(x, 0, C, H, W, ks, ks, s, p, OH, OW, col, 1);
        expect(maxRelDiff(col.subarray(1), naiveIm2col(x, C, H, W, ks, s, p, OH, OW))).toBe(0);
        // col2im is the adjoint of im2col: <im2col(x), g> == <x, col2im(g)> for any g.
        const g = rand(col.length - 1, rng), back = new Float32Array(C * H * W);
        k.col2im(g, 0, C, H, W, ks, ks, s, p, OH, OW, back, 0);
        let lhs = 0, rhs = 0;
        for (let i = 0; i < g.length; i++) lhs += col[1 + i] * g[i];
        for (let i = 0; i < x.length; i++) rhs += x[i] * back[i];
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
      });
    }

    for (const [planes, H, W, size, stride] of [[3, 32, 32, 2, 2], [2, 7, 5, 3, 2], [1, 1, 1, 1, 1], [5, 6, 6, 3, 3], [1, 9, 4, 2, 1]]) {
      it(`max pool ${planes}x${H}x${W} size ${size} stride ${stride}`, () => {
        const OH = Math.floor((H - size) / stride) + 1, OW = Math.floor((W - size) / stride) + 1;
        const x = rand(planes * H * W, rng), out = new Float32Array(planes * OH * OW), arg = new Int32Array(out.length);
        k.maxpoolForward(x, out, arg, planes, H, W, size, stride, OH, OW);
        for (let pl = 0, o = 0; pl < planes; pl++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++, o++) {
          let m = -Infinity;
          for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++) m = Math.max(m, x[(pl * H + oy * stride + dy) * W + ox * stride + dx]);
          expect(out[o]).toBe(m);
          expect(x[arg[o]]).toBe(m);
        }
        const dout = rand(out.length, rng), dx = new Float32Array(x.length).fill(9);
        k.maxpoolBackward(dout, arg, dx, out.length);
        const want = new Float64Array(x.length);
        for (let o = 0; o < out.length; o++) want[arg[o]] += dout[o];
        expect(maxRelDiff(dx, want)).toBeLessThan(TOL);
      });
    }
  });
}
