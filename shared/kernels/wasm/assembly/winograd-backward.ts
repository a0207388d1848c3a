// Winograd F(4x4, 3x3) backward for 3 x 3 stride-1 convolutions: the gradients of the forward pass in
// winograd-forward.ts, with its matrices and layout. With dM = A dY A^T per 4 x 4 output tile (the
// gradient of M):
//   dU_xi [F x C] = sum over tiles of dM_xi^T V_xi, and dW = G^T dU G per filter and channel;
//   dV_xi [T x C] = dM_xi U_xi^T, and dX = sum over tiles of B dV B^T (6 x 6 patches overlapping by 2).
// Both products have the size of the forward one: 36 per position instead of the direct
// convolution's 9 x 16 per tile.

import { KC, MR, macro, packA, packB } from "./gemm";
import { alloc, blockOf, imin, roundUp, sumFloats } from "./memory";
import { fromChannelsLast, gather9, kernel4x8packed, laneOf, toChannelsLast, xiStride, zeros9 } from "./winograd";
import { transformG4, wg4Input } from "./winograd-forward";

const POSITIONS = 36;
const tbuf = memory.data(36 * 16, 16); // one tile's intermediate vectors

/** The six outputs of A applied to one column (y0..y3) of an output-gradient tile, `step` bytes apart. */
// @ts-ignore: decorator
@inline function gradColumn(y0: v128, y1: v128, y2: v128, y3: v128, dst: usize, step: usize): void {
  const a = f32x4.add(y0, y2), b = f32x4.add(y1, y3);
  const c = f32x4.add(y0, f32x4.mul(y2, f32x4.splat(4)));
  const e = f32x4.add(f32x4.mul(y1, f32x4.splat(2)), f32x4.mul(y3, f32x4.splat(8)));
  v128.store(dst, y0);
  v128.store(dst + step, f32x4.add(a, b));
  v128.store(dst + 2 * step, f32x4.sub(a, b));
  v128.store(dst + 3 * step, f32x4.add(c, e));
  v128.store(dst + 4 * step, f32x4.sub(c, e));
  v128.store(dst + 5 * step, y3);
}

/** dM[xi][t0 + t][f] = (A dY_t A^T)_xi for one image's tiles; DY is its output gradient channels-last [4*tilesY][4*tilesX][Fp]. */
function wg4GradOutput(DY: usize, tilesY: i32, tilesX: i32, Fp: i32, DM: usize, t0: i32, mStride: usize): void {
  const px = <usize>Fp << 2, row = <usize>(4 * tilesX * Fp) << 2;
  let t = t0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++, t++) {
      const base = DY + <usize>(4 * ty) * row + <usize>(4 * tx) * px;
      const dst = DM + (<usize>(t * Fp) << 2);
      for (let f: usize = 0; f < px; f += 16) {
        // Columns: tbuf[i][j] = (A dY)_ij (6 x 4); then rows: dM_(i,k) = (tbuf A^T)_ik.
        for (let j: usize = 0; j < 4; j++) {
          const p = base + f + j * px;
          gradColumn(v128.load(p), v128.load(p + row), v128.load(p + 2 * row), v128.load(p + 3 * row), tbuf + (j << 4), 64);
        }
        for (let i: usize = 0; i < 6; i++) {
          const r = tbuf + (i << 6);
          gradColumn(v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), dst + f + i * 6 * mStride, mStride);
        }
      }
    }
  }
}

/** The six outputs of B applied to one column (v0..v5), stored `step` bytes apart from dst. */
// @ts-ignore: decorator
@inline function adjointColumn(v0: v128, v1: v128, v2: v128, v3: v128, v4: v128, v5: v128, dst: usize, step: usize): void {
  const p = f32x4.sub(v1, v2), q = f32x4.sub(v3, v4), s = f32x4.add(v1, v2), r = f32x4.add(v3, v4);
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  v128.store(dst, f32x4.mul(v0, four));
  v128.store(dst + step, f32x4.sub(f32x4.mul(v5, four), f32x4.add(f32x4.mul(p, four), f32x4.mul(q, two))));
  v128.store(dst + 2 * step, f32x4.neg(f32x4.add(f32x4.add(f32x4.mul(v0, five), f32x4.mul(s, four)), r)));
  v128.store(dst + 3 * step, f32x4.sub(f32x4.add(p, f32x4.mul(q, two)), f32x4.mul(v5, five)));
  v128.store(dst + 4 * step, f32x4.add(f32x4.add(v0, s), r));
  v128.store(dst + 5 * step, v5);
}

/** dQ[4ty + i][4tx + j][c] += (B dV_t B^T)_ij for one image's tiles (dQ channels-last, zero-bordered like Q). */
function wg4InputAdjoint(DV: usize, t0: i32, tilesY: i32, tilesX: i32, Cp: i32, vStride: usize, dQ: usize, Wq: i32): void {
  const px = <usize>Cp << 2, row = <usize>(Wq * Cp) << 2;
  const out = tbuf; // rows of B dV (pass 1) are read back by pass 2 before the next channel group
  const acc = memory.data(36 * 16, 16);
  let t = t0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++, t++) {
      const src = DV + (<usize>(t * Cp) << 2);
      const base = dQ + <usize>(4 * ty) * row + <usize>(4 * tx) * px;
      for (let c: usize = 0; c < px; c += 16) {
        // Columns: out[a][j] = (B dV)_aj; then rows: acc[a][b] = (out B^T)_ab, added to the patch.
        for (let j: usize = 0; j < 6; j++) {
          const v = src + c + j * vStride;
          adjointColumn(v128.load(v), v128.load(v + 6 * vStride), v128.load(v + 12 * vStride), v128.load(v + 18 * vStride),
            v128.load(v + 24 * vStride), v128.load(v + 30 * vStride), out + (j << 4), 96);
        }
        for (let a: usize = 0; a < 6; a++) {
          const r = out + a * 96;
          adjointColumn(v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), v128.load(r, 64), v128.load(r, 80), acc + a * 96, 16);
        }
        for (let a: usize = 0; a < 6; a++) {
          const p = base + c + a * row, s = acc + a * 96;
          for (let b: usize = 0; b < 6; b++) v128.store(p + b * px, f32x4.add(v128.load(p + b * px), v128.load(s + (b << 4))));
        }
      }
    }
  }
}

/** Weight transform for the input gradient: U_xi as [Fp][Cp] rows (channels contiguous; Cp a multiple of 8). */
function wg4WeightsRows(w: usize, F: i32, C: i32, Fp: i32, Cp: i32, U: usize): void {
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
      transformG4(U + (<usize>(f * Cp + c) << 2), uStride);
    }
  }
}

/** The three outputs of G^T applied to one column (u0..u5), stored `step` bytes apart from dst. */
// @ts-ignore: decorator
@inline function weightAdjointColumn(u0: v128, u1: v128, u2: v128, u3: v128, u4: v128, u5: v128, dst: usize, step: usize): void {
  const s = f32x4.add(u1, u2), d = f32x4.sub(u1, u2), r = f32x4.add(u3, u4), q = f32x4.sub(u3, u4);
  const sixth = f32x4.splat(1.0 / 6.0);
  v128.store(dst, f32x4.add(f32x4.mul(u0, f32x4.splat(0.25)), f32x4.sub(f32x4.mul(r, f32x4.splat(1.0 / 24.0)), f32x4.mul(s, sixth))));
  v128.store(dst + step, f32x4.sub(f32x4.mul(q, f32x4.splat(1.0 / 12.0)), f32x4.mul(d, sixth)));
  v128.store(dst + 2 * step, f32x4.add(f32x4.mul(f32x4.sub(r, s), sixth), u5));
}

/** dw[f][c] = G^T dU_f,c G (6 x 6 -> 3 x 3), four channels per step; dU_xi stored [Fp][Cp]. */
function wg4WeightsAdjoint(DU: usize, uStride: usize, F: i32, C: i32, Cp: i32, dw: usize): void {
  const out = tbuf, k = memory.data(9 * 16, 16);
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c += 4) {
      const u = DU + (<usize>(f * Cp + c) << 2);
      // Columns: out[r][j] = (G^T dU)_rj (3 x 6); then rows: k[r][s] = (out G)_rs.
      for (let j: usize = 0; j < 6; j++) {
        const p = u + j * uStride;
        weightAdjointColumn(v128.load(p), v128.load(p + 6 * uStride), v128.load(p + 12 * uStride), v128.load(p + 18 * uStride),
          v128.load(p + 24 * uStride), v128.load(p + 30 * uStride), out + (j << 4), 96);
      }
      for (let r: usize = 0; r < 3; r++) {
        const q = out + r * 96;
        weightAdjointColumn(v128.load(q), v128.load(q, 16), v128.load(q, 32), v128.load(q, 48), v128.load(q, 64), v128.load(q, 80), k + r * 48, 16);
      }
      const lanes = C - c < 4 ? C - c : 4;
      for (let l = 0; l < lanes; l++) {
        const o = dw + (<usize>((f * C + c + l) * 9) << 2);
        for (let e = 0; e < 9; e++) store<f32>(o + (<usize>e << 2), laneOf(v128.load(k + (<usize>e << 4)), l));
      }
    }
  }
}

/** Images per backward chunk: V, dM and dV of a chunk take about 768 KiB. */
function wg4ChunkBackward(tilesPerImage: i32, Cp: i32, Fp: i32, n: i32): i32 {
  const perImage = POSITIONS * tilesPerImage * (2 * Cp + Fp) * 4;
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
  const tilesY = (OH + 3) >> 2, tilesX = (OW + 3) >> 2, tpi = tilesY * tilesX;
  const Hq = 4 * tilesY + 2, Wq = 4 * tilesX + 2;
  const qBytes = <usize>(Hq * Wq * Cp) << 2, dyBytes = <usize>(16 * tpi * Fp) << 2;
  const Q = alloc(qBytes), DY = alloc(dyBytes);
  memory.fill(Q, 0, qBytes);
  memory.fill(DY, 0, dyBytes);
  const uStride = xiStride(Fp * Cp);
  const DU = alloc(POSITIONS * uStride);
  let U: usize = 0, dQ: usize = 0;
  if (dx) {
    U = alloc(POSITIONS * uStride);
    wg4WeightsRows(w, F, C, Fp, Cp, U);
    dQ = alloc(qBytes);
  }
  const chunk = wg4ChunkBackward(tpi, Cp, Fp, n);
  const Tp = roundUp(chunk * tpi, 4);
  const vStride = xiStride(Tp * Cp), mStride = xiStride(Tp * Fp);
  const V = alloc(POSITIONS * vStride), DM = alloc(POSITIONS * mStride), DV = dx ? alloc(POSITIONS * vStride) : 0;
  const ldU = <usize>Cp << 2;
  // Packing buffers: dM^T and V blocks for dU, dM row panels for dV.
  const kb = blockOf(Tp, KC), aStride = <usize>(MR * kb) << 2;
  const ap = alloc(<usize>(Fp * kb) << 2), bp = alloc(<usize>(Cp * kb) << 2);
  const apV = dx ? alloc(<usize>(Tp * Fp) << 2) : 0;
  memory.fill(DU, 0, POSITIONS * uStride);
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const cn = imin(chunk, n - i0), T = cn * tpi;
    for (let i = 0; i < cn; i++) {
      toChannelsLast(x + (<usize>((i0 + i) * C * H * W) << 2), C, H, W, pad, Q, Wq, Cp);
      wg4Input(Q, Wq, Cp, tilesY, tilesX, V, i * tpi, vStride);
      toChannelsLast(dy + (<usize>((i0 + i) * F * L) << 2), F, OH, OW, 0, DY, 4 * tilesX, Fp);
      wg4GradOutput(DY, tilesY, tilesX, Fp, DM, i * tpi, mStride);
    }
    const T4 = roundUp(T, 4);
    for (let xi = 0; xi < POSITIONS; xi++) {
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
        wg4InputAdjoint(DV, i * tpi, tilesY, tilesX, Cp, vStride, dQ, Wq);
        fromChannelsLast(dQ, Wq, Cp, pad, C, H, W, dx + (<usize>((i0 + i) * C * H * W) << 2));
      }
    }
  }
  wg4WeightsAdjoint(DU, uStride, F, C, Cp, dw);
}
