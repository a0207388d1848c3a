// The Wasm SIMD kernels, in AssemblyScript (compiled by `npm run build:wasm` to ../kernels.wasm; the
// committed .wasm must equal that build, test/shared/wasm-build.test.ts checks). Every function works
// on raw pointers into this module's linear memory; the JS side (../../wasm-kernels.ts) copies
// operands in, calls, and copies results out. Workspace (packed panels, padded images, transformed
// tiles) comes from a bump allocator that the JS side resets before each call with `setTop`, growing
// memory when needed: nothing is freed, nothing leaks, and no call allocates anything managed.
//
// - Matrix products use the BLIS structure: B packed into panels of NR = 8 columns, A into panels of
//   MR = 4 rows, and a 4 x 8 register-blocked micro-kernel (eight f32x4 accumulators, one splat of A
//   and two vectors of B per step of k). Measured against 4x4, 6x8, 8x8, 4x12, 3x16, 8x4 and 2x16
//   on this machine: 4x8 and 2x16 run at ~58-61 GFLOP/s, the rest at 22-42 (V8 has 16 vector
//   registers; 12 or more accumulators spill).
// - Convolutions pack their B operand straight from the image through two offset tables (im2col
//   without the column matrix); 3 x 3 stride-1 ones with >= 8 input channels use Winograd F(2x2, 3x3)
//   forward and backward (see below).
// - Pooling, ReLU and dropout are branch-free SIMD or scalar code: data-dependent branches
//   mispredict half the time on real activations.

const MR = 4;
const NR = 8;
const KC = 512; // depth of one packed block: a 4 x 512 A panel (8 KiB) + an 8 x 512 B panel (16 KiB) fit L1
const MC = 128; // rows of A packed at once (256 KiB at KC = 512)
const NC = 1024; // columns of B packed at once (2 MiB at KC = 512)

// ---------------------------------------------------------------------------------------------
// Workspace

let top: usize = 0;

/** First byte the JS side may use (64-aligned; static data lies below). */
export function heapBase(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

/** Resets the workspace allocator to `p` (the end of the operands the JS side copied in). */
export function setTop(p: usize): void {
  top = (p + 63) & ~(<usize>63);
}

/** Grows memory so that [0, end) is addressable. */
function ensure(end: usize): void {
  const need = <i32>((end + 0xffff) >>> 16);
  const have = memory.size();
  if (need > have && memory.grow(need - have) < 0) unreachable();
}

function alloc(bytes: usize): usize {
  const p = top;
  top = (p + bytes + 63) & ~(<usize>63);
  ensure(top);
  return p;
}

const tmpTile = memory.data(MR * NR * 4, 16);

// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 { return a < b ? a : b; }

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
function macro(m: i32, nc: i32, kc: i32, ap: usize, aStride: usize, bp: usize, c: usize, ldc: i32): void {
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
function packA(m: i32, kc: i32, a: usize, rs: i32, cs: i32, ap: usize, panelStride: usize): void {
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
function packB(kc: i32, nc: i32, b: usize, rs: i32, cs: i32, bp: usize): void {
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

// @ts-ignore: decorator
@inline function ceilDiv(a: i32, b: i32): i32 { return (a + b - 1) / b; }
/** Splits `total` into equal blocks of at most `max`. */
// @ts-ignore: decorator
@inline function blockOf(total: i32, max: i32): i32 { return ceilDiv(total, ceilDiv(total, max)); }
// @ts-ignore: decorator
@inline function roundUp(a: i32, b: i32): i32 { return ceilDiv(a, b) * b; }

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

// ---------------------------------------------------------------------------------------------
// Small helpers

function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + <usize>(i << 2), v128.load(src + <usize>(i << 2)));
  for (; i < n; i++) store<f32>(dst + <usize>(i << 2), load<f32>(src + <usize>(i << 2)));
}

function fillFloats(dst: usize, v: f32, n: i32): void {
  const s = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + <usize>(i << 2), s);
  for (; i < n; i++) store<f32>(dst + <usize>(i << 2), v);
}

function sumFloats(src: usize, n: i32): f32 {
  let s = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) s = f32x4.add(s, v128.load(src + <usize>(i << 2)));
  let t = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; i < n; i++) t += load<f32>(src + <usize>(i << 2));
  return t;
}

// ---------------------------------------------------------------------------------------------
// Convolution (any kernel size, stride and padding). The image is first copied into a buffer with a
// zero border of `pad` pixels, P[C][Hp][Wp]; then column-matrix entry (r, l), r = (c, ki, kj),
// l = (oy, ox), is P[rowOff[r] + colOff[l]]: im2col is two table lookups, never materialised.

function convTables(C: i32, k: i32, Hp: i32, Wp: i32, s: i32, OH: i32, OW: i32, rowOff: usize, colOff: usize): void {
  let r: usize = rowOff;
  for (let c = 0; c < C; c++) {
    for (let ki = 0; ki < k; ki++) {
      for (let kj = 0; kj < k; kj++) {
        store<i32>(r, (c * Hp + ki) * Wp + kj);
        r += 4;
      }
    }
  }
  let l: usize = colOff;
  for (let oy = 0; oy < OH; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      store<i32>(l, oy * s * Wp + ox * s);
      l += 4;
    }
  }
}

/** Copies x [C][H][W] into the interior of P [C][H+2pad][W+2pad]; P's border must already be 0. */
function padImage(x: usize, C: i32, H: i32, W: i32, pad: i32, P: usize): void {
  const Hp = H + 2 * pad, Wp = W + 2 * pad;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      copyFloats(P + <usize>(((c * Hp + y + pad) * Wp + pad) << 2), x + <usize>(((c * H + y) * W) << 2), W);
    }
  }
}

/** Copies the interior of P [C][H+2pad][W+2pad] into x [C][H][W]. */
function unpadImage(P: usize, C: i32, H: i32, W: i32, pad: i32, x: usize): void {
  const Hp = H + 2 * pad, Wp = W + 2 * pad;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      copyFloats(x + <usize>(((c * H + y) * W) << 2), P + <usize>(((c * Hp + y + pad) * Wp + pad) << 2), W);
    }
  }
}

/** Packs B(p, j) = col[r0 + p][l0 + j] = P[rowOff[p] + colOff[j]] (p < kc, j < nc) as NR-column panels. */
function packConvB(P: usize, rowOff: usize, kc: i32, colOff: usize, nc: i32, bp: usize): void {
  let dst = bp;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = imin(NR, nc - jr);
    const co = colOff + <usize>(jr << 2);
    const c0 = load<i32>(co);
    if (nr == NR && load<i32>(co, 28) == c0 + 7) {
      // Eight consecutive pixels of one row (offsets strictly increase, so a span of 7 means contiguous).
      const base = P + <usize>(c0 << 2);
      for (let p = 0; p < kc; p++) {
        const s = base + <usize>(load<i32>(rowOff + <usize>(p << 2)) << 2);
        v128.store(dst, v128.load(s));
        v128.store(dst, v128.load(s, 16), 16);
        dst += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const s = P + <usize>(load<i32>(rowOff + <usize>(p << 2)) << 2);
        for (let jj = 0; jj < NR; jj++) {
          store<f32>(dst + <usize>(jj << 2), jj < nr ? load<f32>(s + <usize>(load<i32>(co + <usize>(jj << 2)) << 2)) : 0);
        }
        dst += 32;
      }
    }
  }
}

/** Packs B(p, j) = col[r0 + j][l0 + p] = P[rowOff[j] + colOff[p]] (p < kc, j < nc): the transposed columns. */
function packConvBT(P: usize, rowOff: usize, nc: i32, colOff: usize, kc: i32, bp: usize): void {
  let dst = bp;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = imin(NR, nc - jr);
    const ro = rowOff + <usize>(jr << 2);
    if (nr == NR) {
      const r0 = <usize>load<i32>(ro) << 2, r1 = <usize>load<i32>(ro, 4) << 2;
      const r2 = <usize>load<i32>(ro, 8) << 2, r3 = <usize>load<i32>(ro, 12) << 2;
      const r4 = <usize>load<i32>(ro, 16) << 2, r5 = <usize>load<i32>(ro, 20) << 2;
      const r6 = <usize>load<i32>(ro, 24) << 2, r7 = <usize>load<i32>(ro, 28) << 2;
      for (let p = 0; p < kc; p++) {
        const s = P + <usize>(load<i32>(colOff + <usize>(p << 2)) << 2);
        store<f32>(dst, load<f32>(s + r0)); store<f32>(dst, load<f32>(s + r1), 4);
        store<f32>(dst, load<f32>(s + r2), 8); store<f32>(dst, load<f32>(s + r3), 12);
        store<f32>(dst, load<f32>(s + r4), 16); store<f32>(dst, load<f32>(s + r5), 20);
        store<f32>(dst, load<f32>(s + r6), 24); store<f32>(dst, load<f32>(s + r7), 28);
        dst += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const s = P + <usize>(load<i32>(colOff + <usize>(p << 2)) << 2);
        for (let jj = 0; jj < NR; jj++) {
          store<f32>(dst + <usize>(jj << 2), jj < nr ? load<f32>(s + <usize>(load<i32>(ro + <usize>(jj << 2)) << 2)) : 0);
        }
        dst += 32;
      }
    }
  }
}

/**
 * Winograd for 3 x 3 stride 1 with at least 8 input channels. Measured (seed-cnn, batch 1 / 100):
 * 1.7x / 1.8x faster on 16 -> 32 channels, 1.7x / 2.0x on 32 -> 64, 1.2x / 2.2x on 64 -> 128; on
 * 3 -> 16 channels (conv1) it is 2x slower (the transforms outweigh a product of depth 4).
 */
function useWinograd(C: i32, k: i32, s: i32): bool {
  return k == 3 && s == 1 && C >= 8;
}

/**
 * Bytes of the filters' prepared form for convForward (Winograd-transformed or packed): a caller that
 * knows the filters will not change keeps it between calls (see convForward's `prepared`).
 */
export function convPreparedBytes(C: i32, F: i32, k: i32, s: i32): usize {
  if (useWinograd(C, k, s)) return 16 * xiStride(wgCp(C) * wgFp(F));
  return <usize>(roundUp(F, MR) * C * k * k) << 2;
}

/**
 * y_i = W * col(x_i) + b for each of n images; W [F x C*k*k], y_i [F x OH*OW]. `prepared`, if not 0,
 * is convPreparedBytes of memory for the filters' prepared form: filled when `ready` is 0, used as is
 * (the filters not even read) when `ready` is 1.
 */
export function convForward(
  x: usize, w: usize, bias: usize, y: usize, n: i32,
  C: i32, H: i32, W: i32, F: i32, k: i32, s: i32, pad: i32, OH: i32, OW: i32,
  prepared: usize, ready: i32,
): void {
  if (useWinograd(C, k, s)) {
    convForwardWinograd(x, w, bias, y, n, C, H, W, F, pad, OH, OW, prepared, ready);
    return;
  }
  const K = C * k * k, L = OH * OW, Hp = H + 2 * pad, Wp = W + 2 * pad;
  const kb = blockOf(K, KC);
  const aStride = <usize>(MR * K) << 2;
  const ap = prepared ? prepared : alloc(<usize>(roundUp(F, MR) * K) << 2);
  if (!prepared || !ready) packA(F, K, w, K, 1, ap, aStride);
  const rowOff = alloc(<usize>K << 2), colOff = alloc(<usize>L << 2);
  convTables(C, k, Hp, Wp, s, OH, OW, rowOff, colOff);
  const planeBytes = <usize>(C * Hp * Wp) << 2;
  const P = pad > 0 ? alloc(planeBytes) : 0;
  if (pad > 0) memory.fill(P, 0, planeBytes);
  const bp = alloc(<usize>(roundUp(imin(L, NC), NR) * kb) << 2);
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>(i * C * H * W << 2), yi = y + <usize>(i * F * L << 2);
    let src = xi;
    if (pad > 0) {
      padImage(xi, C, H, W, pad, P);
      src = P;
    }
    for (let f = 0; f < F; f++) fillFloats(yi + <usize>(f * L << 2), load<f32>(bias + <usize>(f << 2)), L);
    for (let jc = 0; jc < L; jc += NC) {
      const nc = imin(NC, L - jc);
      for (let pc = 0; pc < K; pc += kb) {
        const kc = imin(kb, K - pc);
        packConvB(src, rowOff + <usize>(pc << 2), kc, colOff + <usize>(jc << 2), nc, bp);
        macro(F, nc, kc, ap + <usize>(pc * MR << 2), aStride, bp, yi + <usize>(jc << 2), L);
      }
    }
  }
}

/**
 * Gradients of convForward over n images: dw = sum_i dy_i col_i^T and db = sum_i rowsum(dy_i) are
 * overwritten; dx (unless 0) is overwritten with col2im(W^T dy_i).
 */
export function convBackward(
  x: usize, w: usize, dy: usize, dw: usize, db: usize, dx: usize, n: i32,
  C: i32, H: i32, W: i32, F: i32, k: i32, s: i32, pad: i32, OH: i32, OW: i32,
): void {
  if (useWinograd(C, k, s)) {
    convBackwardWinograd(x, w, dy, dw, db, dx, n, C, H, W, F, pad, OH, OW);
    return;
  }
  const K = C * k * k, L = OH * OW, Hp = H + 2 * pad, Wp = W + 2 * pad;
  for (let f = 0; f < F; f++) {
    let t: f32 = 0;
    for (let i = 0; i < n; i++) t += sumFloats(dy + <usize>((i * F + f) * L << 2), L);
    store<f32>(db + <usize>(f << 2), t);
  }
  const rowOff = alloc(<usize>K << 2), colOff = alloc(<usize>L << 2);
  convTables(C, k, Hp, Wp, s, OH, OW, rowOff, colOff);
  const planeBytes = <usize>(C * Hp * Wp) << 2;
  const P = pad > 0 ? alloc(planeBytes) : 0;
  if (pad > 0) memory.fill(P, 0, planeBytes);

  // dW [F x K]: reduction over the output positions l of every image.
  memory.fill(dw, 0, <usize>(F * K) << 2);
  const lb = blockOf(L, KC);
  const aStrideD = <usize>(MR * lb) << 2;
  const apD = alloc(<usize>(roundUp(F, MR) * lb) << 2);
  const bpT = alloc(<usize>(roundUp(imin(K, NC), NR) * lb) << 2);

  // dX: dcol [K x L] = W^T dy_i, then scattered back (col2im).
  let apW: usize = 0, dcol: usize = 0, bpY: usize = 0, dxP: usize = 0;
  const fb = blockOf(F, KC);
  const aStrideW = <usize>(MR * F) << 2;
  if (dx) {
    apW = alloc(<usize>(roundUp(K, MR) * F) << 2);
    packA(K, F, w, 1, K, apW, aStrideW);
    dcol = alloc(<usize>(K * L) << 2);
    bpY = alloc(<usize>(roundUp(imin(L, NC), NR) * fb) << 2);
    dxP = pad > 0 ? alloc(planeBytes) : 0;
  }

  for (let i = 0; i < n; i++) {
    const xi = x + <usize>(i * C * H * W << 2), dyi = dy + <usize>(i * F * L << 2);
    let src = xi;
    if (pad > 0) {
      padImage(xi, C, H, W, pad, P);
      src = P;
    }
    for (let pc = 0; pc < L; pc += lb) {
      const kc = imin(lb, L - pc);
      packA(F, kc, dyi + <usize>(pc << 2), L, 1, apD, aStrideD);
      for (let jc = 0; jc < K; jc += NC) {
        const nc = imin(NC, K - jc);
        packConvBT(src, rowOff + <usize>(jc << 2), nc, colOff + <usize>(pc << 2), kc, bpT);
        macro(F, nc, kc, apD, aStrideD, bpT, dw + <usize>(jc << 2), K);
      }
    }
    if (dx) {
      memory.fill(dcol, 0, <usize>(K * L) << 2);
      for (let jc = 0; jc < L; jc += NC) {
        const nc = imin(NC, L - jc);
        for (let pc = 0; pc < F; pc += fb) {
          const kc = imin(fb, F - pc);
          packB(kc, nc, dyi + <usize>((pc * L + jc) << 2), L, 1, bpY);
          macro(K, nc, kc, apW + <usize>(pc * MR << 2), aStrideW, bpY, dcol + <usize>(jc << 2), L);
        }
      }
      const dxi = dx + <usize>(i * C * H * W << 2);
      const dst = pad > 0 ? dxP : dxi;
      memory.fill(dst, 0, pad > 0 ? planeBytes : <usize>(C * H * W) << 2);
      scatterCols(dcol, K, L, rowOff, colOff, dst);
      if (pad > 0) unpadImage(dxP, C, H, W, pad, dxi);
    }
  }
}

/** dst[rowOff[r] + colOff[l]] += col[r][l]: the adjoint of the table lookup (col2im). */
function scatterCols(col: usize, K: i32, L: i32, rowOff: usize, colOff: usize, dst: usize): void {
  let src = col;
  for (let r = 0; r < K; r++) {
    const base = dst + <usize>(load<i32>(rowOff + <usize>(r << 2)) << 2);
    for (let l = 0; l < L; l++) {
      const d = base + <usize>(load<i32>(colOff + <usize>(l << 2)) << 2);
      store<f32>(d, load<f32>(d) + load<f32>(src));
      src += 4;
    }
  }
}

/** One image [C x H x W] -> columns [(C*k*k) x (OH*OW)]. */
export function im2col(x: usize, C: i32, H: i32, W: i32, k: i32, s: i32, pad: i32, OH: i32, OW: i32, col: usize): void {
  const K = C * k * k, L = OH * OW, Hp = H + 2 * pad, Wp = W + 2 * pad;
  const rowOff = alloc(<usize>K << 2), colOff = alloc(<usize>L << 2);
  convTables(C, k, Hp, Wp, s, OH, OW, rowOff, colOff);
  const planeBytes = <usize>(C * Hp * Wp) << 2;
  const P = alloc(planeBytes);
  memory.fill(P, 0, planeBytes);
  padImage(x, C, H, W, pad, P);
  let dst = col;
  for (let r = 0; r < K; r++) {
    const base = P + <usize>(load<i32>(rowOff + <usize>(r << 2)) << 2);
    for (let l = 0; l < L; l++) {
      store<f32>(dst, load<f32>(base + <usize>(load<i32>(colOff + <usize>(l << 2)) << 2)));
      dst += 4;
    }
  }
}

/** The adjoint of im2col: adds each column entry back into dx [C x H x W]. */
export function col2im(col: usize, C: i32, H: i32, W: i32, k: i32, s: i32, pad: i32, OH: i32, OW: i32, dx: usize): void {
  const K = C * k * k, L = OH * OW, Hp = H + 2 * pad, Wp = W + 2 * pad;
  const rowOff = alloc(<usize>K << 2), colOff = alloc(<usize>L << 2);
  convTables(C, k, Hp, Wp, s, OH, OW, rowOff, colOff);
  const planeBytes = <usize>(C * Hp * Wp) << 2;
  const P = alloc(planeBytes);
  memory.fill(P, 0, planeBytes);
  padImage(dx, C, H, W, pad, P);
  scatterCols(col, K, L, rowOff, colOff, P);
  unpadImage(P, C, H, W, pad, dx);
}

// ---------------------------------------------------------------------------------------------
// Fully connected: y [n x O] = x [n x I] W^T + b, W [O x I].

export function affineForward(x: usize, w: usize, b: usize, y: usize, n: i32, I: i32, O: i32): void {
  for (let i = 0; i < n; i++) copyFloats(y + <usize>(i * O << 2), b, O);
  gemm(n, O, I, x, I, 1, w, 1, I, y, O, 1);
}

/** dw = dy^T x and db = column sums of dy (overwritten); dx = dy W (overwritten, unless dx is 0). */
export function affineBackward(x: usize, w: usize, dy: usize, dw: usize, db: usize, dx: usize, n: i32, I: i32, O: i32): void {
  gemm(O, I, n, dy, 1, O, x, I, 1, dw, I, 0);
  copyFloats(db, dy, O);
  for (let i = 1; i < n; i++) {
    const r = dy + <usize>(i * O << 2);
    let o = 0;
    for (; o + 4 <= O; o += 4) v128.store(db + <usize>(o << 2), f32x4.add(v128.load(db + <usize>(o << 2)), v128.load(r + <usize>(o << 2))));
    for (; o < O; o++) store<f32>(db + <usize>(o << 2), load<f32>(db + <usize>(o << 2)) + load<f32>(r + <usize>(o << 2)));
  }
  if (dx) gemm(n, I, O, dy, O, 1, w, I, 1, dx, I, 0);
}

// ---------------------------------------------------------------------------------------------
// Max pooling and ReLU

/** Same rule as the TS reference: the first maximum wins, and a NaN replaces the maximum. */
export function maxpoolForward(
  inp: usize, out: usize, argmax: usize, planes: i32, H: i32, W: i32, size: i32, stride: i32, OH: i32, OW: i32,
): void {
  if (size == 2 && stride == 2) {
    maxpool2x2(inp, out, argmax, planes, H, W, OH, OW);
    return;
  }
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let best = base + oy * stride * W + ox * stride;
        let max = load<f32>(inp + <usize>(best << 2));
        for (let ky = 0; ky < size; ky++) {
          const r = base + (oy * stride + ky) * W + ox * stride;
          for (let kx = 0; kx < size; kx++) {
            const v = load<f32>(inp + <usize>((r + kx) << 2));
            if (v > max || v != v) {
              max = v;
              best = r + kx;
            }
          }
        }
        store<f32>(out + o, max);
        store<i32>(argmax + o, best);
        o += 4;
      }
    }
  }
}

/** Lanes of v (flat indices iv) that replace the running maximum: v > max, or v is NaN. */
// @ts-ignore: decorator
@inline function replaces(v: v128, max: v128): v128 {
  return v128.or(f32x4.gt(v, max), f32x4.ne(v, v));
}

/** 2 x 2 windows, stride 2: four outputs per step, even/odd columns split by shuffles. */
function maxpool2x2(inp: usize, out: usize, argmax: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  const lanes = i32x4(0, 2, 4, 6), one = i32x4.splat(1);
  let o: usize = 0;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < OH; oy++) {
      const r0 = p * H * W + 2 * oy * W, r1 = r0 + W;
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const i0 = r0 + 2 * ox, i1 = r1 + 2 * ox;
        const s0 = inp + (<usize>i0 << 2), s1 = inp + (<usize>i1 << 2);
        const t0 = v128.load(s0), t1 = v128.load(s0, 16), u0 = v128.load(s1), u1 = v128.load(s1, 16);
        // The window's cells in the reference's scan order: a b / c d.
        const a = i32x4.shuffle(t0, t1, 0, 2, 4, 6), b = i32x4.shuffle(t0, t1, 1, 3, 5, 7);
        const c = i32x4.shuffle(u0, u1, 0, 2, 4, 6), d = i32x4.shuffle(u0, u1, 1, 3, 5, 7);
        const ia = i32x4.add(i32x4.splat(i0), lanes), ic = i32x4.add(i32x4.splat(i1), lanes);
        let max = a, idx = ia;
        let m = replaces(b, max);
        max = v128.bitselect(b, max, m); idx = v128.bitselect(i32x4.add(ia, one), idx, m);
        m = replaces(c, max);
        max = v128.bitselect(c, max, m); idx = v128.bitselect(ic, idx, m);
        m = replaces(d, max);
        max = v128.bitselect(d, max, m); idx = v128.bitselect(i32x4.add(ic, one), idx, m);
        v128.store(out + o, max);
        v128.store(argmax + o, idx);
        o += 16;
      }
      for (; ox < OW; ox++) {
        let best = r0 + 2 * ox;
        let max = load<f32>(inp + <usize>(best << 2));
        const cand = memory.data<i32>([0, 1, 0, 0]);
        store<i32>(cand, best + 1);
        store<i32>(cand, r1 + 2 * ox, 4);
        store<i32>(cand, r1 + 2 * ox + 1, 8);
        for (let q = 0; q < 3; q++) {
          const j = load<i32>(cand + <usize>(q << 2));
          const v = load<f32>(inp + <usize>(j << 2));
          if (v > max || v != v) {
            max = v;
            best = j;
          }
        }
        store<f32>(out + o, max);
        store<i32>(argmax + o, best);
        o += 4;
      }
    }
  }
}

export function maxpoolBackward(dout: usize, argmax: usize, dinp: usize, outLen: i32, inLen: i32): void {
  memory.fill(dinp, 0, <usize>inLen << 2);
  for (let o = 0; o < outLen; o++) {
    const d = dinp + <usize>(load<i32>(argmax + <usize>(o << 2)) << 2);
    store<f32>(d, load<f32>(d) + load<f32>(dout + <usize>(o << 2)));
  }
}

/**
 * Training dropout drawing from the xoshiro128** generator whose state (four u32) is at `state` (and
 * is advanced there): unit i is kept when its 32-bit draw u < threshold = ceil(keep * 2^32), which is
 * exactly the TS reference's rng.uniform() < keep. mask = f32(scale) or 0; y = f32(x * (scale or 0))
 * computed in double precision as in JS (so NaN * 0 stays NaN). Branch-free: a select on floats
 * compiles to a branch that mispredicts half the time (6.5 ns per value instead of 1.7).
 */
export function dropoutForward(x: usize, y: usize, mask: usize, len: i32, threshold: f64, scale: f64, state: usize): void {
  let s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  const thr = <u64>threshold;
  const sbits = reinterpret<i64>(scale), fbits = reinterpret<i32>(<f32>scale);
  for (let i = 0; i < len; i++) {
    const u = rotl<u32>(s1 * 5, 7) * 9;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
    s3 = rotl<u32>(s3, 11);
    const keep = -(<i64>(<u64>u < thr)); // all ones or 0
    const o = <usize>i << 2;
    store<i32>(mask + o, fbits & <i32>keep);
    store<f32>(y + o, <f32>(<f64>load<f32>(x + o) * reinterpret<f64>(sbits & keep)));
  }
  store<u32>(state, s0); store<u32>(state, s1, 4); store<u32>(state, s2, 8); store<u32>(state, s3, 12);
}

/** dx = dy * mask. */
export function dropoutBackward(dy: usize, mask: usize, dx: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>(i << 2);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), v128.load(mask + o)));
  }
  for (; i < len; i++) {
    const o = <usize>(i << 2);
    store<f32>(dx + o, load<f32>(dy + o) * load<f32>(mask + o));
  }
}

/** y = x < 0 ? 0 : x (NaN passes through, as in the TS reference). */
export function reluForward(x: usize, y: usize, len: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(x + <usize>(i << 2));
    v128.store(y + <usize>(i << 2), v128.andnot(v, f32x4.lt(v, zero)));
  }
  for (; i < len; i++) {
    const v = load<f32>(x + <usize>(i << 2));
    store<f32>(y + <usize>(i << 2), v < 0 ? 0 : v);
  }
}

/** dx = y > 0 ? dy : 0. */
export function reluBackward(y: usize, dy: usize, dx: usize, len: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>(i << 2);
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), zero)));
  }
  for (; i < len; i++) {
    const o = <usize>(i << 2);
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Winograd F(2x2, 3x3) for 3 x 3 stride-1 convolutions. Per 2 x 2 output tile t and channel c, the
// 4 x 4 input patch d becomes V = B^T d B; per filter f and channel c, U = G g G^T; then for each of
// the 16 positions xi, M_xi [T x F] = V_xi [T x C] * U_xi [C x F] (one matrix product per xi, 2.25x
// fewer multiply-adds than the direct convolution) and each output tile is A^T M A.
// Channels are the vector lanes of the transforms (the image is first copied to a zero-bordered
// channels-last buffer Q [Hq][Wq][Cp]), so V and M have channels/filters contiguous per tile.

/** Channels padded to a multiple of 4 (vector lanes) and filters to a multiple of 8 (B panels). */
// @ts-ignore: decorator
@inline function wgCp(C: i32): i32 { return roundUp(C, 4); }
// @ts-ignore: decorator
@inline function wgFp(F: i32): i32 { return roundUp(F, 8); }
/**
 * Bytes between the 16 per-xi blocks of a buffer with `floats` floats per block: one cache line more
 * than needed, so the 16 streams of a transform never map to the same cache set (a power-of-two
 * stride made the weight transform 10x slower).
 */
// @ts-ignore: decorator
@inline function xiStride(floats: i32): usize { return (<usize>roundUp(floats, 16) << 2) + 64; }

/**
 * x [C][H][W] -> Q [Hq][Wq][Cp] with Q[y][x][c] = x[c][y - pad][x - pad] inside the image. Q must be
 * zeroed once beforehand; only the image's pixels are written, so borders and padding channels stay 0.
 */
function toChannelsLast(x: usize, C: i32, H: i32, W: i32, pad: i32, Q: usize, Wq: i32, Cp: i32): void {
  const rowStride = <usize>(Wq * Cp) << 2, pixStride = <usize>Cp << 2;
  for (let c = 0; c < C; c++) {
    let src = x + <usize>(c * H * W << 2);
    let rowBase = Q + (<usize>((pad * Wq + pad) * Cp + c) << 2);
    for (let y = 0; y < H; y++) {
      let dst = rowBase;
      for (let xx = 0; xx < W; xx++) {
        store<f32>(dst, load<f32>(src));
        src += 4;
        dst += pixStride;
      }
      rowBase += rowStride;
    }
  }
}

/**
 * Input transform of the tiles of one image: V[xi][t0 + t][c] for its tilesY x tilesX tiles.
 * vStride: bytes between consecutive xi blocks of V.
 */
function wgInput(Q: usize, Wq: i32, Cp: i32, tilesY: i32, tilesX: i32, V: usize, t0: i32, vStride: usize): void {
  const px = <usize>Cp << 2, row = <usize>(Wq * Cp) << 2;
  let t = t0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++, t++) {
      const base = Q + <usize>(2 * ty) * row + <usize>(2 * tx) * px;
      let dst = V + <usize>(t * Cp << 2);
      for (let c: usize = 0; c < (<usize>Cp << 2); c += 16) {
        const r0 = base + c, r1 = r0 + row, r2 = r1 + row, r3 = r2 + row;
        // t_i = (B^T d)_i for the four columns j; then V_ij = (t B)_ij.
        const d00 = v128.load(r0), d01 = v128.load(r0 + px), d02 = v128.load(r0 + 2 * px), d03 = v128.load(r0 + 3 * px);
        const d10 = v128.load(r1), d11 = v128.load(r1 + px), d12 = v128.load(r1 + 2 * px), d13 = v128.load(r1 + 3 * px);
        const d20 = v128.load(r2), d21 = v128.load(r2 + px), d22 = v128.load(r2 + 2 * px), d23 = v128.load(r2 + 3 * px);
        const d30 = v128.load(r3), d31 = v128.load(r3 + px), d32 = v128.load(r3 + 2 * px), d33 = v128.load(r3 + 3 * px);
        wgRowOut(f32x4.sub(d00, d20), f32x4.sub(d01, d21), f32x4.sub(d02, d22), f32x4.sub(d03, d23), dst + c, vStride, 0);
        wgRowOut(f32x4.add(d10, d20), f32x4.add(d11, d21), f32x4.add(d12, d22), f32x4.add(d13, d23), dst + c, vStride, 4);
        wgRowOut(f32x4.sub(d20, d10), f32x4.sub(d21, d11), f32x4.sub(d22, d12), f32x4.sub(d23, d13), dst + c, vStride, 8);
        wgRowOut(f32x4.sub(d10, d30), f32x4.sub(d11, d31), f32x4.sub(d12, d32), f32x4.sub(d13, d33), dst + c, vStride, 12);
      }
    }
  }
}

/** Row i of V = t B: stores V[xi0 + j] for j = 0..3 (xi blocks vStride bytes apart). */
// @ts-ignore: decorator
@inline function wgRowOut(t0: v128, t1: v128, t2: v128, t3: v128, dst: usize, vStride: usize, xi0: i32): void {
  const p = dst + <usize>xi0 * vStride;
  v128.store(p, f32x4.sub(t0, t2));
  v128.store(p + vStride, f32x4.add(t1, t2));
  v128.store(p + 2 * vStride, f32x4.sub(t2, t1));
  v128.store(p + 3 * vStride, f32x4.sub(t1, t3));
}

const zeros9 = memory.data(48, 16); // a zero 3 x 3 kernel (+ slack) for the lanes past F or C
const gbuf = memory.data(144, 16); // nine gathered vectors: g_k for four kernels (the lanes)

/**
 * gbuf[k] = lanes (s0[k], s1[k], s2[k], s3[k]) for k = 0..8 (s_l: the 9 floats of one 3 x 3 kernel):
 * two 4 x 4 transposes and a gather of the ninth floats (2x faster than 36 single-lane loads).
 */
function gather9(s0: usize, s1: usize, s2: usize, s3: usize): void {
  transpose4rows(v128.load(s0), v128.load(s1), v128.load(s2), v128.load(s3), gbuf);
  transpose4rows(v128.load(s0, 16), v128.load(s1, 16), v128.load(s2, 16), v128.load(s3, 16), gbuf + 64);
  const lo = i32x4.shuffle(v128.load32_zero(s0, 32), v128.load32_zero(s1, 32), 0, 4, 0, 4);
  const hi = i32x4.shuffle(v128.load32_zero(s2, 32), v128.load32_zero(s3, 32), 0, 4, 0, 4);
  v128.store(gbuf, i32x4.shuffle(lo, hi, 0, 1, 4, 5), 128);
}

/** Stores the transpose of the rows v0..v3 as four vectors at dst, dst + 16, ... */
// @ts-ignore: decorator
@inline function transpose4rows(v0: v128, v1: v128, v2: v128, v3: v128, dst: usize): void {
  const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(dst, i64x2.shuffle(t0, t1, 1, 3), 16);
  v128.store(dst, i64x2.shuffle(t2, t3, 0, 2), 32);
  v128.store(dst, i64x2.shuffle(t2, t3, 1, 3), 48);
}

/** U = G g G^T of the four kernels in gbuf; U_xi (four lanes) is stored at dst + xi * uStride. */
function transformG(dst: usize, uStride: usize): void {
  const half = f32x4.splat(0.5);
  const g0 = v128.load(gbuf), g1 = v128.load(gbuf, 16), g2 = v128.load(gbuf, 32);
  const g3 = v128.load(gbuf, 48), g4 = v128.load(gbuf, 64), g5 = v128.load(gbuf, 80);
  const g6 = v128.load(gbuf, 96), g7 = v128.load(gbuf, 112), g8 = v128.load(gbuf, 128);
  // G g: rows g row 0, (row0 + row1 + row2) / 2, (row0 - row1 + row2) / 2, row 2 (per column).
  const e0 = f32x4.mul(f32x4.add(g0, g6), half), e1 = f32x4.mul(f32x4.add(g1, g7), half), e2 = f32x4.mul(f32x4.add(g2, g8), half);
  const h0 = f32x4.mul(g3, half), h1 = f32x4.mul(g4, half), h2 = f32x4.mul(g5, half);
  wgWeightRow(g0, g1, g2, dst, uStride, 0, half);
  wgWeightRow(f32x4.add(e0, h0), f32x4.add(e1, h1), f32x4.add(e2, h2), dst, uStride, 4, half);
  wgWeightRow(f32x4.sub(e0, h0), f32x4.sub(e1, h1), f32x4.sub(e2, h2), dst, uStride, 8, half);
  wgWeightRow(g6, g7, g8, dst, uStride, 12, half);
}

/** Weight transform U = G g G^T, packed for the forward products as B panels per xi: [Fp/8][Cp][8]. */
function wgWeights(w: usize, F: i32, C: i32, U: usize): void {
  const Cp = wgCp(C), Fp = wgFp(F);
  const uStride = xiStride(Cp * Fp);
  // Every element of U is written once: filters past F and channels past C as zeros.
  for (let f0 = 0; f0 < Fp; f0 += 4) {
    const panel = U + (<usize>((f0 >> 3) * Cp * 8 + (f0 & 7)) << 2);
    for (let c = 0; c < Cp; c++) {
      const ok = c < C;
      gather9(
        ok && f0 < F ? w + (<usize>(f0 * C + c) * 36) : zeros9,
        ok && f0 + 1 < F ? w + (<usize>((f0 + 1) * C + c) * 36) : zeros9,
        ok && f0 + 2 < F ? w + (<usize>((f0 + 2) * C + c) * 36) : zeros9,
        ok && f0 + 3 < F ? w + (<usize>((f0 + 3) * C + c) * 36) : zeros9,
      );
      transformG(panel + (<usize>c << 5), uStride);
    }
  }
}

/** Weight transform for the input gradient: U_xi as [Fp][Cp] rows (channels contiguous; Cp a multiple of 8). */
function wgWeightsRows(w: usize, F: i32, C: i32, Fp: i32, Cp: i32, U: usize): void {
  const uStride = xiStride(Cp * Fp);
  for (let f = 0; f < Fp; f++) {
    for (let c = 0; c < Cp; c += 4) {
      const ok = f < F;
      const s = w + (<usize>(f * C + c) * 36);
      gather9(
        ok && c < C ? s : zeros9,
        ok && c + 1 < C ? s + 36 : zeros9,
        ok && c + 2 < C ? s + 72 : zeros9,
        ok && c + 3 < C ? s + 108 : zeros9,
      );
      transformG(U + (<usize>(f * Cp + c) << 2), uStride);
    }
  }
}

/** One row (x G^T): [a, (a + b + c) / 2, (a - b + c) / 2, c] into U_xi0..xi0+3. */
// @ts-ignore: decorator
@inline function wgWeightRow(a: v128, b: v128, c: v128, dst: usize, uStride: usize, xi0: i32, half: v128): void {
  const p = dst + <usize>xi0 * uStride;
  const e = f32x4.mul(f32x4.add(a, c), half), h = f32x4.mul(b, half);
  v128.store(p, a);
  v128.store(p + uStride, f32x4.add(e, h));
  v128.store(p + 2 * uStride, f32x4.sub(e, h));
  v128.store(p + 3 * uStride, c);
}

/**
 * C tile [4 x 8] = A rows (a, a + lda, ...; kc consecutive floats each) * B [kc x 8] (row p of 8 floats
 * at b + p * bStep); C overwritten.
 */
// @ts-ignore: decorator
@inline function kernel4x8rows(kc: i32, a: usize, lda: usize, b: usize, bStep: usize, c: usize, ldc: usize): void {
  const a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
  let x00 = f32x4.splat(0), x01 = x00, x10 = x00, x11 = x00, x20 = x00, x21 = x00, x30 = x00, x31 = x00;
  for (let p: usize = 0; p < (<usize>kc << 2); p += 4) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a + p);
    x00 = f32x4.add(x00, f32x4.mul(s, b0)); x01 = f32x4.add(x01, f32x4.mul(s, b1));
    s = v128.load32_splat(a1 + p);
    x10 = f32x4.add(x10, f32x4.mul(s, b0)); x11 = f32x4.add(x11, f32x4.mul(s, b1));
    s = v128.load32_splat(a2 + p);
    x20 = f32x4.add(x20, f32x4.mul(s, b0)); x21 = f32x4.add(x21, f32x4.mul(s, b1));
    s = v128.load32_splat(a3 + p);
    x30 = f32x4.add(x30, f32x4.mul(s, b0)); x31 = f32x4.add(x31, f32x4.mul(s, b1));
    b += bStep;
  }
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  v128.store(c, x00); v128.store(c, x01, 16);
  v128.store(c1, x10); v128.store(c1, x11, 16);
  v128.store(c2, x20); v128.store(c2, x21, 16);
  v128.store(c3, x30); v128.store(c3, x31, 16);
}

/** M_xi [T x Fp] = V_xi [T x Cp] * U_xi [Cp x Fp] for all 16 xi (T a multiple of 4, Fp of 8; V and M hold Tp rows per xi). */
function wgProducts(V: usize, U: usize, M: usize, T: i32, Tp: i32, Cp: i32, Fp: i32): void {
  const vStride = xiStride(Tp * Cp), uStride = xiStride(Cp * Fp), mStride = xiStride(Tp * Fp);
  const lda = <usize>Cp << 2, ldc = <usize>Fp << 2;
  for (let xi = 0; xi < 16; xi++) {
    const v = V + <usize>xi * vStride, u = U + <usize>xi * uStride, m = M + <usize>xi * mStride;
    for (let fb = 0; fb < Fp; fb += 8) {
      const b = u + <usize>(fb * Cp << 2);
      for (let tb = 0; tb < T; tb += 4) {
        kernel4x8rows(Cp, v + <usize>tb * lda, lda, b, 32, m + (<usize>(tb * Fp + fb) << 2), ldc);
      }
    }
  }
}

/** Output transform of one image's tiles (M rows t0..): y [F][OH][OW] = A^T M A + b. */
function wgOutput(M: usize, Tp: i32, Fp: i32, t0: i32, tilesY: i32, tilesX: i32, bias: usize, y: usize, F: i32, OH: i32, OW: i32): void {
  const mStride = xiStride(Tp * Fp);
  const plane = <usize>(OH * OW) << 2;
  const zero = f32x4.splat(0);
  let t = t0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++, t++) {
      const oy = 2 * ty, ox = 2 * tx;
      const full = oy + 1 < OH && ox + 1 < OW;
      for (let f = 0; f < F; f += 4) {
        const m = M + (<usize>(t * Fp + f) << 2);
        // s_j = (A^T M)_{.,j}: s0j = m0j + m1j + m2j, s1j = m1j - m2j - m3j.
        const m0 = v128.load(m), m1 = v128.load(m + mStride), m2 = v128.load(m + 2 * mStride), m3 = v128.load(m + 3 * mStride);
        const m4 = v128.load(m + 4 * mStride), m5 = v128.load(m + 5 * mStride), m6 = v128.load(m + 6 * mStride), m7 = v128.load(m + 7 * mStride);
        const m8 = v128.load(m + 8 * mStride), m9 = v128.load(m + 9 * mStride), m10 = v128.load(m + 10 * mStride), m11 = v128.load(m + 11 * mStride);
        const m12 = v128.load(m + 12 * mStride), m13 = v128.load(m + 13 * mStride), m14 = v128.load(m + 14 * mStride), m15 = v128.load(m + 15 * mStride);
        const s00 = f32x4.add(f32x4.add(m0, m4), m8), s01 = f32x4.add(f32x4.add(m1, m5), m9);
        const s02 = f32x4.add(f32x4.add(m2, m6), m10), s03 = f32x4.add(f32x4.add(m3, m7), m11);
        const s10 = f32x4.sub(f32x4.sub(m4, m8), m12), s11 = f32x4.sub(f32x4.sub(m5, m9), m13);
        const s12 = f32x4.sub(f32x4.sub(m6, m10), m14), s13 = f32x4.sub(f32x4.sub(m7, m11), m15);
        const bv = f + 4 <= F ? v128.load(bias + <usize>(f << 2)) : zero;
        const y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), bv);
        const y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), bv);
        const y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), bv);
        const y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), bv);
        const o = y + (<usize>(f * OH * OW + oy * OW + ox) << 2);
        if (full && f + 4 <= F) {
          wgStore4(y00, o, plane);
          wgStore4(y01, o + 4, plane);
          wgStore4(y10, o + <usize>(OW << 2), plane);
          wgStore4(y11, o + <usize>(OW << 2) + 4, plane);
        } else {
          wgStorePartial(y00, y01, y10, y11, o, plane, F - f, oy + 1 < OH, ox + 1 < OW, OW, bias + <usize>(f << 2), f + 4 <= F);
        }
      }
    }
  }
}

/** Lane l of v to p + l * plane. */
// @ts-ignore: decorator
@inline function wgStore4(v: v128, p: usize, plane: usize): void {
  v128.store32_lane(p, v, 0);
  v128.store32_lane(p + plane, v, 1);
  v128.store32_lane(p + 2 * plane, v, 2);
  v128.store32_lane(p + 3 * plane, v, 3);
}

/** Edge tiles and the last filters: only real outputs are written (bias added here when it was not loaded). */
function wgStorePartial(y00: v128, y01: v128, y10: v128, y11: v128, o: usize, plane: usize, lanes: i32, row2: bool, col2: bool, OW: i32, bias: usize, hadBias: bool): void {
  const t = memory.data(64, 16);
  v128.store(t, y00); v128.store(t, y01, 16); v128.store(t, y10, 32); v128.store(t, y11, 48);
  const n = lanes < 4 ? lanes : 4;
  for (let l = 0; l < n; l++) {
    const b: f32 = hadBias ? 0 : load<f32>(bias + <usize>(l << 2));
    const p = o + <usize>l * plane;
    store<f32>(p, load<f32>(t + <usize>(l << 2)) + b);
    if (col2) store<f32>(p + 4, load<f32>(t + <usize>(16 + (l << 2))) + b);
    if (row2) {
      store<f32>(p + <usize>(OW << 2), load<f32>(t + <usize>(32 + (l << 2))) + b);
      if (col2) store<f32>(p + <usize>(OW << 2) + 4, load<f32>(t + <usize>(48 + (l << 2))) + b);
    }
  }
}

/** Images per chunk: V and M of a chunk take about 512 KiB (they stay in L2 between the steps). */
function wgChunk(tilesPerImage: i32, Cp: i32, Fp: i32, n: i32): i32 {
  const perImage = 16 * tilesPerImage * (Cp + Fp) * 4;
  const c = (512 * 1024) / perImage;
  return c < 1 ? 1 : c > n ? n : c;
}

/** 3 x 3, stride 1 convolution (any padding) by Winograd F(2x2, 3x3). */
function convForwardWinograd(
  x: usize, w: usize, bias: usize, y: usize, n: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, OH: i32, OW: i32,
  prepared: usize, ready: i32,
): void {
  const Cp = wgCp(C), Fp = wgFp(F);
  const tilesY = (OH + 1) >> 1, tilesX = (OW + 1) >> 1, tpi = tilesY * tilesX;
  const Hq = 2 * tilesY + 2, Wq = 2 * tilesX + 2;
  const U = prepared ? prepared : alloc(16 * xiStride(Cp * Fp));
  if (!prepared || !ready) wgWeights(w, F, C, U);
  const qBytes = <usize>(Hq * Wq * Cp) << 2;
  const Q = alloc(qBytes);
  memory.fill(Q, 0, qBytes);
  const chunk = wgChunk(tpi, Cp, Fp, n);
  const Tp = roundUp(chunk * tpi, 4);
  const V = alloc(16 * xiStride(Tp * Cp)), M = alloc(16 * xiStride(Tp * Fp));
  const vStride = xiStride(Tp * Cp);
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const cn = imin(chunk, n - i0);
    for (let i = 0; i < cn; i++) {
      toChannelsLast(x + <usize>((i0 + i) * C * H * W << 2), C, H, W, pad, Q, Wq, Cp);
      wgInput(Q, Wq, Cp, tilesY, tilesX, V, i * tpi, vStride);
    }
    // Rows of V past the chunk's last tile hold whatever was there: each row of M depends only on its
    // own row of V, and those rows of M are never read.
    wgProducts(V, U, M, roundUp(cn * tpi, 4), Tp, Cp, Fp);
    for (let i = 0; i < cn; i++) {
      wgOutput(M, Tp, Fp, i * tpi, tilesY, tilesX, bias, y + <usize>((i0 + i) * F * OH * OW << 2), F, OH, OW);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Winograd backward. With dM = A dY A^T per output tile (the gradient of M):
//   dU_xi [F x C] = sum over tiles of dM_xi^T V_xi, and dW = G^T dU G per filter and channel;
//   dV_xi [T x C] = dM_xi U_xi^T, and dX = sum over tiles of B dV B^T (tiles overlap by 2 pixels).
// Both products have the same size as the forward one.

/**
 * C tile [4 x 8] (+)= sum_p A(., p) B(p, .) with column p of A the 4 floats at a + p * aStep and row p
 * of B the 8 floats at b + p * bStep.
 */
// @ts-ignore: decorator
@inline function kernel4x8cols(kc: i32, a: usize, aStep: usize, b: usize, bStep: usize, c: usize, ldc: usize, acc: bool): void {
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  const z = f32x4.splat(0);
  let x00 = acc ? v128.load(c) : z, x01 = acc ? v128.load(c, 16) : z;
  let x10 = acc ? v128.load(c1) : z, x11 = acc ? v128.load(c1, 16) : z;
  let x20 = acc ? v128.load(c2) : z, x21 = acc ? v128.load(c2, 16) : z;
  let x30 = acc ? v128.load(c3) : z, x31 = acc ? v128.load(c3, 16) : z;
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
    a += aStep; b += bStep;
  }
  v128.store(c, x00); v128.store(c, x01, 16);
  v128.store(c1, x10); v128.store(c1, x11, 16);
  v128.store(c2, x20); v128.store(c2, x21, 16);
  v128.store(c3, x30); v128.store(c3, x31, 16);
}

/** dM[xi][t0 + t][f] = (A dY_t A^T)_xi for one image's tiles; DY is its output gradient channels-last [2*tilesY][2*tilesX][Fp]. */
function wgGradOutput(DY: usize, tilesY: i32, tilesX: i32, Fp: i32, DM: usize, t0: i32, mStride: usize): void {
  const px = <usize>Fp << 2, row = <usize>(2 * tilesX * Fp) << 2;
  let t = t0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++, t++) {
      const base = DY + <usize>(2 * ty) * row + <usize>(2 * tx) * px;
      const dst = DM + (<usize>(t * Fp) << 2);
      for (let f: usize = 0; f < px; f += 16) {
        const a = v128.load(base + f), b = v128.load(base + f + px);
        const c = v128.load(base + f + row), d = v128.load(base + f + row + px);
        // Rows (A dY): (a, b), (a + c, b + d), (a - c, b - d), (-c, -d); then each row (p, q) -> [p, p + q, p - q, -q].
        wgGradRow(a, b, dst + f, mStride, 0);
        wgGradRow(f32x4.add(a, c), f32x4.add(b, d), dst + f, mStride, 4);
        wgGradRow(f32x4.sub(a, c), f32x4.sub(b, d), dst + f, mStride, 8);
        wgGradRow(f32x4.neg(c), f32x4.neg(d), dst + f, mStride, 12);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function wgGradRow(p: v128, q: v128, dst: usize, mStride: usize, xi0: i32): void {
  const o = dst + <usize>xi0 * mStride;
  v128.store(o, p);
  v128.store(o + mStride, f32x4.add(p, q));
  v128.store(o + 2 * mStride, f32x4.sub(p, q));
  v128.store(o + 3 * mStride, f32x4.neg(q));
}

/** dQ[2ty + i][2tx + j][c] += (B dV_t B^T)_ij for one image's tiles (dQ channels-last, zero-bordered like Q). */
function wgInputAdjoint(DV: usize, t0: i32, tilesY: i32, tilesX: i32, Cp: i32, vStride: usize, dQ: usize, Wq: i32): void {
  const px = <usize>Cp << 2, row = <usize>(Wq * Cp) << 2;
  let t = t0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++, t++) {
      const src = DV + (<usize>(t * Cp) << 2);
      const base = dQ + <usize>(2 * ty) * row + <usize>(2 * tx) * px;
      for (let c: usize = 0; c < px; c += 16) {
        const v = src + c;
        const v0 = v128.load(v), v1 = v128.load(v + vStride), v2 = v128.load(v + 2 * vStride), v3 = v128.load(v + 3 * vStride);
        const v4 = v128.load(v + 4 * vStride), v5 = v128.load(v + 5 * vStride), v6 = v128.load(v + 6 * vStride), v7 = v128.load(v + 7 * vStride);
        const v8 = v128.load(v + 8 * vStride), v9 = v128.load(v + 9 * vStride), v10 = v128.load(v + 10 * vStride), v11 = v128.load(v + 11 * vStride);
        const v12 = v128.load(v + 12 * vStride), v13 = v128.load(v + 13 * vStride), v14 = v128.load(v + 14 * vStride), v15 = v128.load(v + 15 * vStride);
        // Rows (B dV): r0 = row0, r1 = row1 - row2 + row3, r2 = row1 + row2 - row0, r3 = -row3.
        const r10 = f32x4.add(f32x4.sub(v4, v8), v12), r11 = f32x4.add(f32x4.sub(v5, v9), v13);
        const r12 = f32x4.add(f32x4.sub(v6, v10), v14), r13 = f32x4.add(f32x4.sub(v7, v11), v15);
        const r20 = f32x4.sub(f32x4.add(v4, v8), v0), r21 = f32x4.sub(f32x4.add(v5, v9), v1);
        const r22 = f32x4.sub(f32x4.add(v6, v10), v2), r23 = f32x4.sub(f32x4.add(v7, v11), v3);
        const p = base + c;
        wgAdjointRow(v0, v1, v2, v3, p, px);
        wgAdjointRow(r10, r11, r12, r13, p + row, px);
        wgAdjointRow(r20, r21, r22, r23, p + 2 * row, px);
        wgAdjointRow(f32x4.neg(v12), f32x4.neg(v13), f32x4.neg(v14), f32x4.neg(v15), p + 3 * row, px);
      }
    }
  }
}

/** Adds [a, b - c + d, a' = b + c - a, -d] (the row times B^T) to four pixels px bytes apart. */
// @ts-ignore: decorator
@inline function wgAdjointRow(a: v128, b: v128, c: v128, d: v128, p: usize, px: usize): void {
  v128.store(p, f32x4.add(v128.load(p), a));
  v128.store(p + px, f32x4.add(v128.load(p + px), f32x4.add(f32x4.sub(b, c), d)));
  v128.store(p + 2 * px, f32x4.add(v128.load(p + 2 * px), f32x4.sub(f32x4.add(b, c), a)));
  v128.store(p + 3 * px, f32x4.sub(v128.load(p + 3 * px), d));
}

/** x [C][H][W] = the image part of Q [Hq][Wq][Cp] (offset by pad). */
function fromChannelsLast(Q: usize, Wq: i32, Cp: i32, pad: i32, C: i32, H: i32, W: i32, x: usize): void {
  const rowStride = <usize>(Wq * Cp) << 2, pixStride = <usize>Cp << 2;
  for (let c = 0; c < C; c++) {
    let dst = x + (<usize>(c * H * W) << 2);
    let rowBase = Q + (<usize>((pad * Wq + pad) * Cp + c) << 2);
    for (let y = 0; y < H; y++) {
      let src = rowBase;
      for (let xx = 0; xx < W; xx++) {
        store<f32>(dst, load<f32>(src));
        dst += 4;
        src += pixStride;
      }
      rowBase += rowStride;
    }
  }
}

/** dw[f][c] = G^T dU_f,c G (4 x 4 -> 3 x 3), four channels per step; dU_xi stored [Fp][Cp]. */
function wgWeightsAdjoint(DU: usize, uStride: usize, F: i32, C: i32, Cp: i32, dw: usize): void {
  const half = f32x4.splat(0.5);
  const out = memory.data(144, 16);
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c += 4) {
      const u = DU + (<usize>(f * Cp + c) << 2);
      // Rows (G^T dU): q0 = u0 + (u1 + u2) / 2, q1 = (u1 - u2) / 2, q2 = (u1 + u2) / 2 + u3 (rows of 4).
      for (let j: usize = 0; j < 4; j++) {
        const u0 = v128.load(u + j * uStride), u1 = v128.load(u + (4 + j) * uStride);
        const u2 = v128.load(u + (8 + j) * uStride), u3 = v128.load(u + (12 + j) * uStride);
        const s = f32x4.mul(f32x4.add(u1, u2), half);
        v128.store(out + (j << 4), f32x4.add(u0, s));
        v128.store(out + ((4 + j) << 4), f32x4.mul(f32x4.sub(u1, u2), half));
        v128.store(out + ((8 + j) << 4), f32x4.add(s, u3));
      }
      // Columns: the same combination of each row's four entries -> three.
      const lanes = C - c < 4 ? C - c : 4;
      for (let r: usize = 0; r < 3; r++) {
        const a = v128.load(out + (r << 6)), b = v128.load(out + (r << 6) + 16);
        const cc = v128.load(out + (r << 6) + 32), d = v128.load(out + (r << 6) + 48);
        const s = f32x4.mul(f32x4.add(b, cc), half);
        const k0 = f32x4.add(a, s), k1 = f32x4.mul(f32x4.sub(b, cc), half), k2 = f32x4.add(s, d);
        const dst = dw + (<usize>((f * C + c) * 9) << 2) + r * 12;
        for (let l = 0; l < lanes; l++) {
          const o = dst + <usize>(l * 36);
          store<f32>(o, laneOf(k0, l));
          store<f32>(o + 4, laneOf(k1, l));
          store<f32>(o + 8, laneOf(k2, l));
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function laneOf(v: v128, l: i32): f32 {
  return l == 0 ? f32x4.extract_lane(v, 0) : l == 1 ? f32x4.extract_lane(v, 1) : l == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

/** Images per backward chunk: V, dM and dV of a chunk take about 768 KiB. */
function wgChunkBackward(tilesPerImage: i32, Cp: i32, Fp: i32, n: i32): i32 {
  const perImage = 16 * tilesPerImage * (2 * Cp + Fp) * 4;
  const c = (768 * 1024) / perImage;
  return c < 1 ? 1 : c > n ? n : c;
}

/** Gradients of convForwardWinograd: dw, db overwritten; dx overwritten unless 0. */
function convBackwardWinograd(x: usize, w: usize, dy: usize, dw: usize, db: usize, dx: usize, n: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, OH: i32, OW: i32): void {
  const L = OH * OW;
  for (let f = 0; f < F; f++) {
    let t: f32 = 0;
    for (let i = 0; i < n; i++) t += sumFloats(dy + (<usize>((i * F + f) * L) << 2), L);
    store<f32>(db + (<usize>f << 2), t);
  }
  const Cp = roundUp(C, 8), Fp = roundUp(F, 8);
  const tilesY = (OH + 1) >> 1, tilesX = (OW + 1) >> 1, tpi = tilesY * tilesX;
  const Hq = 2 * tilesY + 2, Wq = 2 * tilesX + 2;
  const qBytes = <usize>(Hq * Wq * Cp) << 2, dyBytes = <usize>(4 * tpi * Fp) << 2;
  const Q = alloc(qBytes), DY = alloc(dyBytes);
  memory.fill(Q, 0, qBytes);
  memory.fill(DY, 0, dyBytes);
  const uStride = xiStride(Fp * Cp);
  const DU = alloc(16 * uStride);
  let U: usize = 0, dQ: usize = 0;
  if (dx) {
    U = alloc(16 * uStride);
    wgWeightsRows(w, F, C, Fp, Cp, U);
    dQ = alloc(qBytes);
  }
  const chunk = wgChunkBackward(tpi, Cp, Fp, n);
  const Tp = roundUp(chunk * tpi, 4);
  const vStride = xiStride(Tp * Cp), mStride = xiStride(Tp * Fp);
  const V = alloc(16 * vStride), DM = alloc(16 * mStride), DV = dx ? alloc(16 * vStride) : 0;
  const ldU = <usize>Cp << 2, ldM = <usize>Fp << 2;
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const cn = imin(chunk, n - i0), T = cn * tpi;
    for (let i = 0; i < cn; i++) {
      toChannelsLast(x + (<usize>((i0 + i) * C * H * W) << 2), C, H, W, pad, Q, Wq, Cp);
      wgInput(Q, Wq, Cp, tilesY, tilesX, V, i * tpi, vStride);
      toChannelsLast(dy + (<usize>((i0 + i) * F * L) << 2), F, OH, OW, 0, DY, 2 * tilesX, Fp);
      wgGradOutput(DY, tilesY, tilesX, Fp, DM, i * tpi, mStride);
    }
    for (let xi = 0; xi < 16; xi++) {
      const v = V + <usize>xi * vStride, m = DM + <usize>xi * mStride, du = DU + <usize>xi * uStride;
      // dU_xi [Fp x Cp] (+)= dM_xi^T [Fp x T] V_xi [T x Cp]
      for (let fb = 0; fb < Fp; fb += 4) {
        for (let cb = 0; cb < Cp; cb += 8) {
          kernel4x8cols(T, m + (<usize>fb << 2), ldM, v + (<usize>cb << 2), ldU, du + (<usize>(fb * Cp + cb) << 2), ldU, i0 > 0);
        }
      }
      if (dx) {
        // dV_xi [T x Cp] = dM_xi [T x Fp] U_xi [Fp x Cp] (rows past T are computed and never read)
        const u = U + <usize>xi * uStride, dv = DV + <usize>xi * vStride;
        for (let cb = 0; cb < Cp; cb += 8) {
          for (let tb = 0; tb < T; tb += 4) {
            kernel4x8rows(Fp, m + <usize>tb * ldM, ldM, u + (<usize>cb << 2), ldU, dv + (<usize>(tb * Cp + cb) << 2), ldU);
          }
        }
      }
    }
    if (dx) {
      for (let i = 0; i < cn; i++) {
        memory.fill(dQ, 0, qBytes);
        wgInputAdjoint(DV, i * tpi, tilesY, tilesX, Cp, vStride, dQ, Wq);
        fromChannelsLast(dQ, Wq, Cp, pad, C, H, W, dx + (<usize>((i0 + i) * C * H * W) << 2));
      }
    }
  }
  wgWeightsAdjoint(DU, uStride, F, C, Cp, dw);
}

// ---------------------------------------------------------------------------------------------
// Normalisation and activations (their own files)

export { batchnormStats, batchnormApply, batchnormBackward } from "./normalization";
export { geluForward, geluBackward } from "./activation";
