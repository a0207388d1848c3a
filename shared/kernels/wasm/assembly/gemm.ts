// Matrix products in the BLIS structure: B packed into panels of NR = 8 columns, A into panels of
// MR = 4 rows, and a 4 x 8 register-blocked micro-kernel (eight f32x4 accumulators, one splat of A
// and two vectors of B per step of k). Measured against 4x4, 6x8, 8x8, 4x12, 3x16, 8x4 and 2x16
// on this machine: 4x8 and 2x16 run at ~58-61 GFLOP/s, the rest at 22-42 (V8 has 16 vector
// registers; 12 or more accumulators spill). The convolutions (conv.ts) reuse packA, packB and macro.

import { alloc, imin, blockOf, roundUp } from "./memory";

export const MR = 4;
export const NR = 8;
export const KC = 512; // depth of one packed block: a 4 x 512 A panel (8 KiB) + an 8 x 512 B panel (16 KiB) fit L1
const MC = 128; // rows of A packed at once (256 KiB at KC = 512)
export const NC = 1024; // columns of B packed at once (2 MiB at KC = 512)

const tmpTile = memory.data(MR * NR * 4, 16);

// ---------------------------------------------------------------------------------------------
// Micro-kernel: C[4 x 8] += Ap[kc][4] * Bp[kc][8]. c points at C(0,0); ldc is the row stride in bytes.

// @ts-ignore: decorator
@inline function kernel4x8(kc: i32, a: usize, b: usize, c: usize, ldc: usize): void {
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  let x00 = v128.load(c), x01 = v128.load(c, 16);
  let x10 = v128.load(c1), x11 = v128.load(c1, 16);
  let x20 = v128.load(c2), x21 = v128.load(c2, 16);
  let x30 = v128.load(c3), x31 = v128.load(c3, 16);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    x00 = f32x4.add(x00, f32x4.mul(s, b0)); x01 = f32x4.add(x01, f32x4.mul(s, b1));
    s = v128.load32_splat(a, 4);
    x10 = f32x4.add(x10, f32x4.mul(s, b0)); x11 = f32x4.add(x11, f32x4.mul(s, b1));
    s = v128.load32_splat(a, 8);
    x20 = f32x4.add(x20, f32x4.mul(s, b0)); x21 = f32x4.add(x21, f32x4.mul(s, b1));
    s = v128.load32_splat(a, 12);
    x30 = f32x4.add(x30, f32x4.mul(s, b0)); x31 = f32x4.add(x31, f32x4.mul(s, b1));
    a += 16; b += 32;
  }
  v128.store(c, x00); v128.store(c, x01, 16);
  v128.store(c1, x10); v128.store(c1, x11, 16);
  v128.store(c2, x20); v128.store(c2, x21, 16);
  v128.store(c3, x30); v128.store(c3, x31, 16);
}

/** One tile of C (the first mr <= 4 rows and nr <= 8 columns are real) at c, row stride ldc elements. */
function tile(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, mr: i32, nr: i32): void {
  const ldcb = <usize>ldc << 2;
  if (mr == MR && nr == NR) {
    kernel4x8(kc, ap, bp, c, ldcb);
    return;
  }
  const t = tmpTile;
  for (let i = 0; i < MR; i++) {
    for (let j = 0; j < NR; j++) {
      store<f32>(t + <usize>((i * NR + j) << 2), i < mr && j < nr ? load<f32>(c + <usize>i * ldcb + <usize>(j << 2)) : 0);
    }
  }
  kernel4x8(kc, ap, bp, t, NR * 4);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) store<f32>(c + <usize>i * ldcb + <usize>(j << 2), load<f32>(t + <usize>((i * NR + j) << 2)));
  }
}

/**
 * C[m x nc] += Apanels * Bpanels for one packed block of depth kc. A panel q (rows q*MR..) starts at
 * ap + q*aStride bytes; B panel r (columns r*NR..) at bp + r*NR*kc*4.
 */
export function macro(m: i32, nc: i32, kc: i32, ap: usize, aStride: usize, bp: usize, c: usize, ldc: i32): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = imin(NR, nc - jr);
    const b = bp + <usize>(jr * kc << 2);
    let a = ap;
    for (let ir = 0; ir < m; ir += MR) {
      tile(kc, a, b, c + <usize>((ir * ldc + jr) << 2), ldc, imin(MR, m - ir), nr);
      a += aStride;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Packing

/** A(i, p) = a[i*rs + p*cs] for i < m, p < kc, packed as panels [ceil(m/MR)][kc][MR], zero-padded. */
export function packA(m: i32, kc: i32, a: usize, rs: i32, cs: i32, ap: usize, panelStride: usize): void {
  for (let ir = 0; ir < m; ir += MR) {
    const mr = imin(MR, m - ir);
    const base = a + <usize>(ir * rs << 2);
    let dst = ap + <usize>(ir / MR) * panelStride;
    if (mr == MR && rs == 1) {
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(base + <usize>(p * cs << 2)));
        dst += 16;
      }
    } else if (mr == MR && cs == 1) {
      // Four rows, contiguous along p: transpose 4 x 4 blocks.
      const r1 = base + <usize>(rs << 2), r2 = r1 + <usize>(rs << 2), r3 = r2 + <usize>(rs << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>(p << 2);
        const v0 = v128.load(base + o), v1 = v128.load(r1 + o), v2 = v128.load(r2 + o), v3 = v128.load(r3 + o);
        const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
        const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
        v128.store(dst, i64x2.shuffle(t0, t1, 0, 2));
        v128.store(dst, i64x2.shuffle(t0, t1, 1, 3), 16);
        v128.store(dst, i64x2.shuffle(t2, t3, 0, 2), 32);
        v128.store(dst, i64x2.shuffle(t2, t3, 1, 3), 48);
        dst += 64;
      }
      for (; p < kc; p++) {
        const o = <usize>(p << 2);
        store<f32>(dst, load<f32>(base + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
        dst += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let ii = 0; ii < MR; ii++) {
          store<f32>(dst + <usize>(ii << 2), ii < mr ? load<f32>(base + <usize>((ii * rs + p * cs) << 2)) : 0);
        }
        dst += 16;
      }
    }
  }
}

/** B(p, j) = b[p*rs + j*cs] for p < kc, j < nc, packed as panels [ceil(nc/NR)][kc][NR], zero-padded. */
export function packB(kc: i32, nc: i32, b: usize, rs: i32, cs: i32, bp: usize): void {
  let dst = bp;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = imin(NR, nc - jr);
    const base = b + <usize>(jr * cs << 2);
    if (nr == NR && cs == 1) {
      for (let p = 0; p < kc; p++) {
        const s = base + <usize>(p * rs << 2);
        v128.store(dst, v128.load(s));
        v128.store(dst, v128.load(s, 16), 16);
        dst += 32;
      }
    } else if (nr == NR && rs == 1) {
      // Eight rows of the stored matrix, contiguous along p: transpose 4 x 4 blocks, two per step.
      const c4 = base + <usize>(cs << 4);
      const s = <usize>(cs << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>(p << 2);
        transpose4(base + o, s, dst, 32);
        transpose4(c4 + o, s, dst + 16, 32);
        dst += 128;
      }
      for (; p < kc; p++) {
        const o = <usize>(p << 2);
        for (let jj = 0; jj < NR; jj++) store<f32>(dst + <usize>(jj << 2), load<f32>(base + o + <usize>jj * s));
        dst += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let jj = 0; jj < NR; jj++) {
          store<f32>(dst + <usize>(jj << 2), jj < nr ? load<f32>(base + <usize>((p * rs + jj * cs) << 2)) : 0);
        }
        dst += 32;
      }
    }
  }
}

/** Reads 4 rows of 4 floats (row i at src + i*srcStride) and writes the transpose: row j at dst + j*dstStride. */
// @ts-ignore: decorator
@inline function transpose4(src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const v0 = v128.load(src), v1 = v128.load(src + srcStride);
  const v2 = v128.load(src + 2 * srcStride), v3 = v128.load(src + 3 * srcStride);
  const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(dst + dstStride, i64x2.shuffle(t0, t1, 1, 3));
  v128.store(dst + 2 * dstStride, i64x2.shuffle(t2, t3, 0, 2));
  v128.store(dst + 3 * dstStride, i64x2.shuffle(t2, t3, 1, 3));
}

function zeroRows(c: usize, m: i32, n: i32, ldc: i32): void {
  if (ldc == n) {
    memory.fill(c, 0, <usize>(m * n) << 2);
    return;
  }
  for (let i = 0; i < m; i++) memory.fill(c + <usize>(i * ldc << 2), 0, <usize>n << 2);
}

// ---------------------------------------------------------------------------------------------
// General matrix product

/**
 * C[M x N] (+)= A * B with A(i,k) = a[i*ars + k*acs], B(k,j) = b[k*brs + j*bcs], C(i,j) = c[i*ldc + j].
 */
export function gemm(
  M: i32, N: i32, K: i32, a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32, accumulate: i32,
): void {
  if (!accumulate) zeroRows(c, M, N, ldc);
  if (M <= 0 || N <= 0 || K <= 0) return;
  if (M < MR && brs == 1) {
    // A few rows against a transposed B (e.g. a fully connected layer on one example): dot products
    // along contiguous rows of B, no packing.
    dotRows(M, N, K, a, ars, acs, b, bcs, c, ldc);
    return;
  }
  const kb = blockOf(K, KC);
  const ap = alloc(<usize>(roundUp(imin(M, MC), MR) * kb) << 2);
  const bp = alloc(<usize>(roundUp(imin(N, NC), NR) * kb) << 2);
  const aStride = <usize>(MR * kb) << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = imin(NC, N - jc);
    for (let pc = 0; pc < K; pc += kb) {
      const kc = imin(kb, K - pc);
      packB(kc, nc, b + <usize>((pc * brs + jc * bcs) << 2), brs, bcs, bp);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = imin(MC, M - ic);
        packA(mc, kc, a + <usize>((ic * ars + pc * acs) << 2), ars, acs, ap, aStride);
        macro(mc, nc, kc, ap, aStride, bp, c + <usize>((ic * ldc + jc) << 2), ldc);
      }
    }
  }
}

/** C(i,j) += sum_k A(i,k) * b[j*bcs + k] for a few rows i: SIMD dot products, four columns at a time. */
function dotRows(M: i32, N: i32, K: i32, a: usize, ars: i32, acs: i32, b: usize, bcs: i32, c: usize, ldc: i32): void {
  // Gather each row of A contiguously first (it is tiny), so both operands stream.
  const row = alloc(<usize>roundUp(K, 4) << 2);
  const K4 = K & ~3;
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) store<f32>(row + <usize>(k << 2), load<f32>(a + <usize>((i * ars + k * acs) << 2)));
    const ci = c + <usize>(i * ldc << 2);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = b + <usize>(j * bcs << 2), b1 = b0 + <usize>(bcs << 2), b2 = b1 + <usize>(bcs << 2), b3 = b2 + <usize>(bcs << 2);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>(k << 2);
        const x = v128.load(row + o);
        s0 = f32x4.add(s0, f32x4.mul(x, v128.load(b0 + o)));
        s1 = f32x4.add(s1, f32x4.mul(x, v128.load(b1 + o)));
        s2 = f32x4.add(s2, f32x4.mul(x, v128.load(b2 + o)));
        s3 = f32x4.add(s3, f32x4.mul(x, v128.load(b3 + o)));
      }
      // Horizontal sums of the four accumulators at once (4 x 4 transpose, then add the rows).
      const t0 = i32x4.shuffle(s0, s1, 0, 4, 1, 5), t1 = i32x4.shuffle(s2, s3, 0, 4, 1, 5);
      const t2 = i32x4.shuffle(s0, s1, 2, 6, 3, 7), t3 = i32x4.shuffle(s2, s3, 2, 6, 3, 7);
      let sum = f32x4.add(
        f32x4.add(i64x2.shuffle(t0, t1, 0, 2), i64x2.shuffle(t0, t1, 1, 3)),
        f32x4.add(i64x2.shuffle(t2, t3, 0, 2), i64x2.shuffle(t2, t3, 1, 3)),
      );
      if (K4 < K) {
        let e0: f32 = 0, e1: f32 = 0, e2: f32 = 0, e3: f32 = 0;
        for (let k = K4; k < K; k++) {
          const o = <usize>(k << 2);
          const x = load<f32>(row + o);
          e0 += x * load<f32>(b0 + o); e1 += x * load<f32>(b1 + o); e2 += x * load<f32>(b2 + o); e3 += x * load<f32>(b3 + o);
        }
        let e = f32x4.splat(e0);
        e = f32x4.replace_lane(e, 1, e1); e = f32x4.replace_lane(e, 2, e2); e = f32x4.replace_lane(e, 3, e3);
        sum = f32x4.add(sum, e);
      }
      const cj = ci + <usize>(j << 2);
      v128.store(cj, f32x4.add(v128.load(cj), sum));
    }
    for (; j < N; j++) {
      const bj = b + <usize>(j * bcs << 2);
      let s: f32 = 0;
      for (let k = 0; k < K; k++) s += load<f32>(row + <usize>(k << 2)) * load<f32>(bj + <usize>(k << 2));
      const cj = ci + <usize>(j << 2);
      store<f32>(cj, load<f32>(cj) + s);
    }
  }
}
