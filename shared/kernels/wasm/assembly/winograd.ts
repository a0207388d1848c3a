// Winograd convolutions (3 x 3, stride 1): what the forward pass (winograd-forward.ts) and the backward
// pass (winograd-backward.ts) share. Per output tile t and channel c, the input patch d becomes
// V = B^T d B; per filter f and channel c, U = G g G^T; for each position xi of the transformed tile,
// M_xi [T x F] = V_xi [T x C] * U_xi [C x F] (one matrix product per xi) and each output tile is
// A^T M A. Channels are the vector lanes of the transforms (the image is first copied to a
// zero-bordered channels-last buffer Q [Hq][Wq][Cp]), so V and M have channels/filters contiguous per
// tile. Here: that layout, the gather of four 3 x 3 kernels into lanes, and the products' micro-kernel.

import { roundUp } from "./memory";

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

/** x [C][H][W] = the image part of Q [Hq][Wq][Cp] (offset by pad). */
export function fromChannelsLast(Q: usize, Wq: i32, Cp: i32, pad: i32, C: i32, H: i32, W: i32, x: usize): void {
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

// @ts-ignore: decorator
@inline export function laneOf(v: v128, l: i32): f32 {
  return l == 0 ? f32x4.extract_lane(v, 0) : l == 1 ? f32x4.extract_lane(v, 1) : l == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}
