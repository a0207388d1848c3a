// One conformance suite for every kernel implementation (Hono's router pattern): each implementation
// must agree with the naive definitions below on random shapes, including awkward ones (1, odd
// sizes, non-multiples of 4 and of the block size), forward and backward.
//
// Tolerance: results are compared with float64 naive sums as |got - want| / max(1, |want|) and must
// stay below tol(K) = 1e-5 * max(1, sqrt(K / 64)), K the length of the sum behind each value (float32
// rounding grows like sqrt(K) when the order of a sum changes: ~1.5e-5 measured at K = 512..2048 for
// both implementations). Pure data movement (im2col, pooling, ReLU) must be exact. One exception:
// 3x3 stride-1 convolutions with >= 8 channels, which the Wasm kernels compute by Winograd
// F(4x4, 3x3) forward and backward: its transforms scale values by up to 5 per side, so float32
// rounding is ~1e-4 (measured on the shapes below: y 1.6e-5 - 1.1e-4, dx 1.6e-5 - 1.2e-4, dw
// 1.1e-5 - 4.5e-5; a float64 model of the forward gives 2.1e-4 at K = 576), and those are bound by
// WINOGRAD x tol(K). A wrong transform is off by far more (a constant changed by 1 % fails 10 shapes).

import { describe, expect, it } from "vitest";
import { convShape, Rng, type ConvShape } from "../../shared/index.ts";
import { IMPLEMENTATIONS } from "./implementations.ts";

export { IMPLEMENTATIONS };

/** Max |a - b| relative to max(1, |b|): float32 sums in a different order differ by ~1e-6 relative. */
function maxRelDiff(a: Float32Array, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}
const TOL = 1e-5;
/** The tolerance for values that are sums of K products. */
const tol = (K: number): number => TOL * Math.max(1, Math.sqrt(K / 64));
const WINOGRAD = 10;
const winograd = (s: ConvShape): boolean => s.k === 3 && s.stride === 1 && s.C >= 8;

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

/** Direct convolution in float64: y [n x F x OH x OW]. */
function naiveConv(x: Float32Array, w: Float32Array, b: Float32Array, n: number, s: ConvShape): Float64Array {
  const { C, H, W, F, k, stride, pad, OH, OW } = s;
  const y = new Float64Array(n * F * OH * OW);
  for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let t = b[f];
    for (let c = 0; c < C; c++) for (let ki = 0; ki < k; ki++) for (let kj = 0; kj < k; kj++) {
      const yy = oy * stride - pad + ki, xx = ox * stride - pad + kj;
      if (yy >= 0 && yy < H && xx >= 0 && xx < W) t += w[((f * C + c) * k + ki) * k + kj] * x[((i * C + c) * H + yy) * W + xx];
    }
    y[((i * F + f) * OH + oy) * OW + ox] = t;
  }
  return y;
}

/** The gradients of naiveConv for output gradient dy, in float64. */
function naiveConvBackward(x: Float32Array, w: Float32Array, dy: Float32Array, n: number, s: ConvShape) {
  const { C, H, W, F, k, stride, pad, OH, OW } = s;
  const dw = new Float64Array(w.length), db = new Float64Array(F), dx = new Float64Array(n * C * H * W);
  for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    const g = dy[((i * F + f) * OH + oy) * OW + ox];
    db[f] += g;
    for (let c = 0; c < C; c++) for (let ki = 0; ki < k; ki++) for (let kj = 0; kj < k; kj++) {
      const yy = oy * stride - pad + ki, xx = ox * stride - pad + kj;
      if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
      const wi = ((f * C + c) * k + ki) * k + kj, xi = ((i * C + c) * H + yy) * W + xx;
      dw[wi] += g * x[xi];
      dx[xi] += g * w[wi];
    }
  }
  return { dw, db, dx };
}

const gemmShapes: Array<[number, number, number]> = [
  [1, 1, 1], [1, 7, 3], [5, 1, 9], [3, 5, 4], [16, 1024, 27], [7, 259, 13], [33, 17, 65], [2, 300, 5], [10, 3, 1024],
];
const convShapes: Array<[number, number, number, number, number, number]> = [
  // C, H, W, k, stride, pad
  [3, 32, 32, 3, 1, 1], [1, 1, 1, 1, 1, 0], [2, 7, 5, 3, 2, 1], [4, 6, 9, 5, 1, 2], [1, 8, 7, 2, 3, 0], [3, 5, 5, 3, 1, 3],
];
// Layer-op shapes: [n, C, H, W, F, k, stride, pad]. The seed-cnn layers, then odd sizes, odd filter
// counts (not multiples of 4 or 8), 3x3 stride 1 on odd images (tiles that overhang), 1x1, strides,
// padding larger than the kernel's reach, a single pixel, a deep K (blocks of the depth loop).
const convOpShapes: Array<[number, number, number, number, number, number, number, number]> = [
  [2, 3, 32, 32, 16, 3, 1, 1], [2, 16, 16, 16, 32, 3, 1, 1], [1, 32, 8, 8, 64, 3, 1, 1], [3, 64, 4, 4, 128, 3, 1, 1],
  [1, 3, 7, 5, 5, 3, 1, 1], [3, 5, 9, 11, 7, 3, 1, 1], [2, 2, 3, 3, 3, 3, 1, 1], [1, 1, 1, 1, 1, 3, 1, 1],
  [2, 5, 3, 3, 2, 1, 1, 0], [2, 2, 7, 5, 3, 5, 2, 2], [1, 1, 8, 7, 2, 2, 3, 0], [2, 3, 5, 5, 4, 3, 1, 3],
  [1, 4, 6, 9, 6, 5, 1, 2], [1, 3, 6, 6, 9, 3, 2, 0], [1, 70, 5, 5, 9, 3, 1, 1], [2, 7, 13, 17, 12, 3, 1, 0],
  // 3x3 stride 1 with >= 8 channels (the Winograd path of the Wasm kernels): odd image sizes (edge
  // tiles), filter counts that are not multiples of 4 or 8, pad 0 and 2, a 1-pixel output.
  [2, 9, 7, 5, 6, 3, 1, 1], [1, 8, 3, 3, 13, 3, 1, 0], [2, 12, 6, 11, 5, 3, 1, 2], [3, 10, 1, 1, 3, 3, 1, 1],
  [1, 8, 9, 9, 8, 3, 1, 1], [5, 33, 6, 6, 17, 3, 1, 1],
];
// Affine shapes: [n, I, O].
const affineShapes: Array<[number, number, number]> = [[1, 512, 1024], [100, 512, 1024], [3, 1024, 10], [1, 7, 2], [5, 13, 9], [2, 1, 1], [7, 33, 17]];

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
          expect(maxRelDiff(C.subarray(cOff), want)).toBeLessThan(tol(K));
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

    for (const [planes, H, W, size, stride] of [[3, 32, 32, 2, 2], [2, 7, 5, 3, 2], [1, 1, 1, 1, 1], [5, 6, 6, 3, 3], [1, 9, 4, 2, 1], [4, 5, 7, 2, 2], [2, 4, 18, 2, 2], [1, 2, 2, 2, 2], [2, 31, 31, 2, 2], [1, 6, 9, 2, 2], [3, 4, 14, 2, 2]]) {
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

    it("max pool: the first maximum wins ties, and NaN replaces the maximum (2x2 and 3x3 windows)", () => {
      for (const [size, stride] of [[2, 2], [3, 1]]) {
        // Planes of 4 x 10: tied windows, NaN in each position, and enough columns for 4-wide paths.
        const H = 4, W = 10, OH = Math.floor((H - size) / stride) + 1, OW = Math.floor((W - size) / stride) + 1;
        const x = new Float32Array(3 * H * W).fill(1);
        x[H * W + 5] = NaN; x[2 * H * W + W + 2] = NaN; x[2 * H * W + 3] = 2;
        const out = new Float32Array(3 * OH * OW), arg = new Int32Array(out.length);
        k.maxpoolForward(x, out, arg, 3, H, W, size, stride, OH, OW);
        for (let pl = 0, o = 0; pl < 3; pl++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++, o++) {
          let m = x[(pl * H + oy * stride) * W + ox * stride], best = (pl * H + oy * stride) * W + ox * stride;
          for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++) {
            const i = (pl * H + oy * stride + dy) * W + ox * stride + dx;
            if (x[i] > m || Number.isNaN(x[i])) { m = x[i]; best = i; }
          }
          expect(Object.is(out[o], m), `output ${o}`).toBe(true);
          expect(arg[o], `argmax ${o}`).toBe(best);
        }
      }
    });

    it("relu forward/backward: exact, NaN passes, -0 kept, in place allowed", () => {
      for (const len of [1, 3, 4, 17, 1000]) {
        const x = rand(len + 2, rng);
        x[0] = NaN; if (len > 2) { x[1] = -0; x[2] = 0; }
        const y = new Float32Array(len + 2).fill(7);
        k.reluForward(x, y, len);
        for (let i = 0; i < len; i++) expect(Object.is(y[i], x[i] < 0 ? 0 : x[i]), `y[${i}]`).toBe(true);
        expect([y[len], y[len + 1]]).toEqual([7, 7]); // nothing written past len
        const dy = rand(len, rng), dx = new Float32Array(len).fill(7);
        k.reluBackward(y, dy, dx, len);
        for (let i = 0; i < len; i++) expect(dx[i]).toBe(y[i] > 0 ? dy[i] : 0);
        const z = x.slice();
        k.reluForward(z, z, len);
        expect(Array.from(z.subarray(0, len))).toEqual(Array.from(y.subarray(0, len)));
      }
    });

    it("gelu forward (both forms) and the training form's slope: x Phi(x) and Phi(x) + x phi(x) within 1e-6 on [-9, 9], odd lengths, nothing past len", () => {
      // A float64 erf by its Maclaurin series (|x| <= 3) or continued fraction (beyond): ~1e-15.
      const erf64 = (z: number): number => {
        const a = Math.abs(z);
        if (a > 3) {
          let f = 0;
          for (let n = 60; n >= 1; n--) f = (n / 2) / (a + f);
          return Math.sign(z) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
        }
        let term = a, sum = a;
        for (let n = 1; n < 100; n++) { term *= (-a * a) / n; sum += term / (2 * n + 1); }
        return Math.sign(z) * (2 / Math.sqrt(Math.PI)) * sum;
      };
      for (const len of [1, 3, 4, 7, 1001]) {
        const x = new Float32Array(len + 1).fill(7);
        for (let i = 0; i < len; i++) x[i] = len === 1001 ? -9 + (18 * i) / 1000 : rng.uniform() * 8 - 4;
        const y = new Float32Array(len + 1).fill(7), yFast = y.slice(), slope = y.slice();
        k.geluForward(x, y, slope, len);
        k.geluForwardFast(x, yFast, len);
        for (let i = 0; i < len; i++) {
          const v = x[i], phi = 0.5 * (1 + erf64(v / Math.SQRT2)), density = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
          expect(Math.abs(y[i] - v * phi), `gelu(${v})`).toBeLessThan(1e-6 * Math.max(1, Math.abs(v)));
          // The training form is also relatively precise in the negative tail (gradient checks need it).
          if (Math.abs(v) <= 5) expect(Math.abs(y[i] - v * phi), `gelu(${v}) relative`).toBeLessThanOrEqual(2e-5 * Math.abs(v * phi));
          expect(Math.abs(yFast[i] - v * phi), `fast gelu(${v})`).toBeLessThan(1e-6 * Math.max(1, Math.abs(v)));
          expect(Math.abs(slope[i] - (phi + v * density)), `gelu'(${v})`).toBeLessThan(1e-6);
          if (Math.abs(v) <= 5) expect(Math.abs(slope[i] - (phi + v * density)), `gelu'(${v}) relative`).toBeLessThanOrEqual(2e-5 * Math.abs(phi + v * density));
        }
        expect([y[len], yFast[len], slope[len]]).toEqual([7, 7, 7]);
        // In place (y = x), as the layer may call it.
        const inPlace = x.slice();
        k.geluForward(inPlace, inPlace, slope, len);
        expect(inPlace.subarray(0, len)).toEqual(y.subarray(0, len));
      }
    });

    it("dropout: the same mask as rng.uniform() < keep drawn in order, the same rng state after; backward (multiply)", () => {
      for (const [len, keep] of [[1, 0.5], [7, 0.5], [1000, 0.9], [333, 0.1], [64, 1 - 2 ** -30]]) {
        const x = rand(len, rng);
        x[0] = NaN; if (len > 2) { x[1] = -3; x[2] = Infinity; }
        const seed = 1000 + len;
        const y = new Float32Array(len + 1).fill(7), mask = new Float32Array(len + 1).fill(7), r = new Rng(seed);
        k.dropoutForward(x, y, mask, len, keep, r);
        const want = new Rng(seed), scale = 1 / keep;
        for (let i = 0; i < len; i++) {
          const m = want.uniform() < keep ? scale : 0;
          expect(Object.is(mask[i], Math.fround(m)), `mask[${i}]`).toBe(true);
          expect(Object.is(y[i], Math.fround(x[i] * m)), `y[${i}]`).toBe(true);
        }
        expect([y[len], mask[len]]).toEqual([7, 7]);
        expect(r.getState()).toEqual(want.getState());
        const dy = rand(len, rng), dx = new Float32Array(len);
        k.multiply(dy, mask, dx, len);
        for (let i = 0; i < len; i++) expect(dx[i]).toBe(Math.fround(dy[i] * mask[i]));
      }
    });

    for (const [n, C, H, W, F, ks, st, p] of convOpShapes) {
      const s = convShape(C, H, W, F, ks, st, p);
      it(`conv forward/backward n=${n} ${C}x${H}x${W} -> ${F} k${ks} s${st} p${p}`, () => {
        const x = rand(n * C * H * W, rng), w = rand(F * C * ks * ks, rng), b = rand(F, rng);
        const outLen = n * F * s.OH * s.OW;
        const y = new Float32Array(outLen + 3).fill(7);
        k.convForward(x, w, b, y, n, s);
        expect(maxRelDiff(y.subarray(0, outLen), naiveConv(x, w, b, n, s))).toBeLessThan(tol(C * ks * ks) * (winograd(s) ? WINOGRAD : 1));
        expect(Array.from(y.subarray(outLen))).toEqual([7, 7, 7]);
        const dy = rand(outLen, rng), want = naiveConvBackward(x, w, dy, n, s);
        const dw = new Float32Array(w.length).fill(7), db = new Float32Array(F).fill(7), dx = new Float32Array(x.length + 2).fill(7);
        k.convBackward(x, w, dy, dw, db, dx, n, s);
        expect(maxRelDiff(dw, want.dw), "dw").toBeLessThan(tol(n * s.OH * s.OW) * (winograd(s) ? WINOGRAD : 1));
        expect(maxRelDiff(db, want.db), "db").toBeLessThan(tol(n * s.OH * s.OW));
        expect(maxRelDiff(dx.subarray(0, x.length), want.dx), "dx").toBeLessThan(tol(F * ks * ks) * (winograd(s) ? WINOGRAD : 1));
        expect(Array.from(dx.subarray(x.length))).toEqual([7, 7]);
        const dw2 = new Float32Array(w.length), db2 = new Float32Array(F);
        k.convBackward(x, w, dy, dw2, db2, null, n, s); // no input gradient (the first layer)
        expect(maxRelDiff(dw2, want.dw), "dw without dx").toBeLessThan(tol(n * s.OH * s.OW) * (winograd(s) ? WINOGRAD : 1));
      });
    }

    for (const [n, I, O] of affineShapes) {
      it(`affine forward/backward n=${n} ${I} -> ${O}`, () => {
        const x = rand(n * I, rng), w = rand(O * I, rng), b = rand(O, rng);
        const y = new Float32Array(n * O + 1).fill(7);
        k.affineForward(x, w, b, y, n, I, O);
        const want = naiveGemm(false, true, n, O, I, x, w, new Float32Array(n * O), false).map((v, j) => v + b[j % O]);
        expect(maxRelDiff(y.subarray(0, n * O), want)).toBeLessThan(tol(I));
        expect(y[n * O]).toBe(7);
        const dy = rand(n * O, rng), dw = new Float32Array(O * I).fill(7), db = new Float32Array(O).fill(7), dx = new Float32Array(n * I).fill(7);
        k.affineBackward(x, w, dy, dw, db, dx, n, I, O);
        expect(maxRelDiff(dw, naiveGemm(true, false, O, I, n, dy, x, dw, false)), "dw").toBeLessThan(tol(n));
        const wantDb = new Float64Array(O);
        for (let i = 0; i < n; i++) for (let o = 0; o < O; o++) wantDb[o] += dy[i * O + o];
        expect(maxRelDiff(db, wantDb), "db").toBeLessThan(tol(n));
        expect(maxRelDiff(dx, naiveGemm(false, false, n, I, O, dy, w, dx, false)), "dx").toBeLessThan(tol(O));
      });
    }

    it("a batch smaller than the arrays touches only its own examples; results do not depend on earlier calls", () => {
      const s = convShape(3, 8, 8, 5, 3, 1, 1);
      const x = rand(4 * 3 * 64, rng), w = rand(5 * 27, rng), b = rand(5, rng);
      const big = new Float32Array(4 * 5 * 64), small = new Float32Array(4 * 5 * 64).fill(7);
      k.convForward(x, w, b, big, 4, s);
      k.convForward(x, w, b, small, 1, s);
      expect(Array.from(small.subarray(0, 320))).toEqual(Array.from(big.subarray(0, 320)));
      expect(small.subarray(320).every((v) => v === 7)).toBe(true);
      k.convForward(x, w, b, small, 4, s);
      expect(Array.from(small)).toEqual(Array.from(big));
    });
  });
}
