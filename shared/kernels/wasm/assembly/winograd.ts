// Winograd F(2x2, 3x3) for the backward pass of 3 x 3 stride-1 convolutions, and the layout it shares
// with the forward pass's F(4x4, 3x3) (winograd-forward.ts). Per 2 x 2 output tile t and channel c,
// the 4 x 4 input patch d becomes V = B^T d B; per filter f and channel c, U = G g G^T; for each of
// the 16 positions xi, M_xi [T x F] = V_xi [T x C] * U_xi [C x F] (one matrix product per xi, 2.25x
// fewer multiply-adds than the direct convolution) and each output tile is A^T M A.
// Channels are the vector lanes of the transforms (the image is first copied to a zero-bordered
// channels-last buffer Q [Hq][Wq][Cp]), so V and M have channels/filters contiguous per tile.

import { alloc, blockOf, imin, roundUp, sumFloats } from "./memory";
import { KC, MR, macro, packA, packB } from "./gemm";

/** Channels padded to a multiple of 4 (vector lanes) and filters to a multiple of 8 (B panels). */
// @ts-ignore: decorator
@inline export function wgCp(C: i32): i32 { return roundUp(C, 4); }
// @ts-ignore: decorator
@inline export function wgFp(F: i32): i32 { return roundUp(F, 8); }
/**
 * Bytes between the 16 per-xi blocks of a buffer with `floats` floats per block: one cache line more
 * than needed, so the 16 streams of a transform never map to the same cache set (a power-of-two
 * stride made the weight transform 10x slower).
 */
// @ts-ignore: decorator
@inline export function xiStride(floats: i32): usize { return (<usize>roundUp(floats, 16) << 2) + 64; }

/**
 * x [C][H][W] -> Q [Hq][Wq][Cp] with Q[y][x][c] = x[c][y - pad][x - pad] inside the image. Q must be
 * zeroed once beforehand; only the image's pixels are written, so borders and padding channels stay 0.
 */
export function toChannelsLast(x: usize, C: i32, H: i32, W: i32, pad: i32, Q: usize, Wq: i32, Cp: i32): void {
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

export const zeros9 = memory.data(48, 16); // a zero 3 x 3 kernel (+ slack) for the lanes past F or C
export const gbuf = memory.data(144, 16); // nine gathered vectors: g_k for four kernels (the lanes)

/**
 * gbuf[k] = lanes (s0[k], s1[k], s2[k], s3[k]) for k = 0..8 (s_l: the 9 floats of one 3 x 3 kernel):
 * two 4 x 4 transposes and a gather of the ninth floats (2x faster than 36 single-lane loads).
 */
export function gather9(s0: usize, s1: usize, s2: usize, s3: usize): void {
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
 * C tile [4 x 8] = Ap [kc][4] (an A panel, packed) * B [kc x 8] (row p of 8 floats at b + p * bStep);
 * C overwritten. The products' micro-kernel: A contiguous, as in gemm.ts (reading A from four rows of
 * V instead ran at half the speed).
 */
// @ts-ignore: decorator
@inline export function kernel4x8packed(kc: i32, a: usize, b: usize, bStep: usize, c: usize, ldc: usize): void {
  let x00 = f32x4.splat(0), x01 = x00, x10 = x00, x11 = x00, x20 = x00, x21 = x00, x30 = x00, x31 = x00;
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
    a += 16; b += bStep;
  }
  const c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
  v128.store(c, x00); v128.store(c, x01, 16);
  v128.store(c1, x10); v128.store(c1, x11, 16);
  v128.store(c2, x20); v128.store(c2, x21, 16);
  v128.store(c3, x30); v128.store(c3, x31, 16);
}

// ---------------------------------------------------------------------------------------------
// Winograd backward. With dM = A dY A^T per output tile (the gradient of M):
//   dU_xi [F x C] = sum over tiles of dM_xi^T V_xi, and dW = G^T dU G per filter and channel;
//   dV_xi [T x C] = dM_xi U_xi^T, and dX = sum over tiles of B dV B^T (tiles overlap by 2 pixels).
// Both products have the same size as the forward one.

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

/** Gradients of a 3 x 3 stride-1 convolution: dw, db overwritten; dx overwritten unless 0. */
export function convBackwardWinograd(x: usize, w: usize, dy: usize, dw: usize, db: usize, dx: usize, n: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, OH: i32, OW: i32): void {
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
  const ldU = <usize>Cp << 2;
  // Packing buffers: dM^T and V blocks for dU, dM row panels for dV.
  const kb = blockOf(Tp, KC), aStride = <usize>(MR * kb) << 2;
  const ap = alloc(<usize>(Fp * kb) << 2), bp = alloc(<usize>(Cp * kb) << 2);
  const apV = dx ? alloc(<usize>(Tp * Fp) << 2) : 0;
  memory.fill(DU, 0, 16 * uStride);
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const cn = imin(chunk, n - i0), T = cn * tpi;
    for (let i = 0; i < cn; i++) {
      toChannelsLast(x + (<usize>((i0 + i) * C * H * W) << 2), C, H, W, pad, Q, Wq, Cp);
      wgInput(Q, Wq, Cp, tilesY, tilesX, V, i * tpi, vStride);
      toChannelsLast(dy + (<usize>((i0 + i) * F * L) << 2), F, OH, OW, 0, DY, 2 * tilesX, Fp);
      wgGradOutput(DY, tilesY, tilesX, Fp, DM, i * tpi, mStride);
    }
    // Both products read packed panels (gemm.ts's packA / packB), as the forward one does.
    const T4 = roundUp(T, 4);
    for (let xi = 0; xi < 16; xi++) {
      const v = V + <usize>xi * vStride, m = DM + <usize>xi * mStride, du = DU + <usize>xi * uStride;
      // dU_xi [Fp x Cp] += dM_xi^T [Fp x T] V_xi [T x Cp], in blocks of at most KC tiles.
      for (let pc = 0; pc < T; pc += kb) {
        const kc = imin(kb, T - pc);
        packA(Fp, kc, m + (<usize>(pc * Fp) << 2), 1, Fp, ap, aStride);
        packB(kc, Cp, v + (<usize>(pc * Cp) << 2), Cp, 1, bp);
        macro(Fp, Cp, kc, ap, aStride, bp, du, Cp);
      }
      if (dx) {
        // dV_xi [T x Cp] = dM_xi [T x Fp] U_xi [Fp x Cp] (rows past T are computed and never read)
        const u = U + <usize>xi * uStride, dv = DV + <usize>xi * vStride;
        packA(T4, Fp, m, Fp, 1, apV, <usize>(Fp * MR) << 2);
        for (let cb = 0; cb < Cp; cb += 8) {
          let a = apV;
          for (let tb = 0; tb < T; tb += 4) {
            kernel4x8packed(Fp, a, u + (<usize>cb << 2), ldU, dv + (<usize>(tb * Cp + cb) << 2), ldU);
            a += <usize>(Fp * MR) << 2;
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
