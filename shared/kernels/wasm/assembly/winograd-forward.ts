// Winograd F(4x4, 3x3) for the forward pass of 3 x 3 stride-1 convolutions, in the layout of
// winograd.ts: 4 x 4 output tiles, 6 x 6 input patches and 36 positions xi (Lavin and Gray's matrices
// for the points 0, +-1, +-2 and infinity). Per output pixel it does 36 / 16 = 2.25 multiply-adds per channel
// and filter, against F(2x2, 3x3)'s 4 and the direct convolution's 9; its transforms cost about the
// same per pixel. winograd-backward.ts computes its gradients with the same matrices.
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]

import { MR, packA } from "./gemm";
import { alloc, imin, roundUp } from "./memory";
import { gather9, gbuf, kernel4x8packed, toChannelsLast, wgCp, wgFp, xiStride, zeros9 } from "./winograd";

const POSITIONS = 36;
const tbuf = memory.data(36 * 16, 16); // one tile's intermediate 6 x 6 (or 4 x 6) vectors

/** The six outputs of B^T applied to one column (d0..d5), stored `step` bytes apart from dst. */
// @ts-ignore: decorator
@inline function inputColumn(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, dst: usize, step: usize): void {
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  const a = f32x4.sub(d4, f32x4.mul(d2, four)), b = f32x4.sub(d3, f32x4.mul(d1, four));
  const c = f32x4.sub(d4, d2), e = f32x4.mul(f32x4.sub(d3, d1), two);
  v128.store(dst, f32x4.add(f32x4.sub(f32x4.mul(d0, four), f32x4.mul(d2, five)), d4));
  v128.store(dst + step, f32x4.add(a, b));
  v128.store(dst + 2 * step, f32x4.sub(a, b));
  v128.store(dst + 3 * step, f32x4.add(c, e));
  v128.store(dst + 4 * step, f32x4.sub(c, e));
  v128.store(dst + 5 * step, f32x4.add(f32x4.sub(f32x4.mul(d1, four), f32x4.mul(d3, five)), d5));
}

/** Input transform of one image's tiles: V[xi][t0 + t][c] = (B^T d B)_xi of the 6 x 6 patch at (4 ty, 4 tx). */
export function wg4Input(Q: usize, Wq: i32, Cp: i32, tilesY: i32, tilesX: i32, V: usize, t0: i32, vStride: usize): void {
  const px = <usize>Cp << 2, row = <usize>(Wq * Cp) << 2;
  let t = t0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++, t++) {
      const base = Q + <usize>(4 * ty) * row + <usize>(4 * tx) * px;
      const dst = V + <usize>(t * Cp << 2);
      for (let c: usize = 0; c < (<usize>Cp << 2); c += 16) {
        // Columns: tbuf[i][j] = (B^T d)_ij; then rows: V_(i,k) = (tbuf B)_ik.
        for (let j: usize = 0; j < 6; j++) {
          const p = base + c + j * px;
          inputColumn(v128.load(p), v128.load(p + row), v128.load(p + 2 * row), v128.load(p + 3 * row),
            v128.load(p + 4 * row), v128.load(p + 5 * row), tbuf + (j << 4), 96);
        }
        for (let i: usize = 0; i < 6; i++) {
          const r = tbuf + i * 96;
          inputColumn(v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), v128.load(r, 64), v128.load(r, 80),
            dst + c + i * 6 * vStride, vStride);
        }
      }
    }
  }
}

/** The six outputs of G applied to one column (g0, g1, g2), stored `step` bytes apart from dst. */
// @ts-ignore: decorator
@inline function weightColumn(g0: v128, g1: v128, g2: v128, dst: usize, step: usize): void {
  const s = f32x4.add(g0, g2);
  const h = f32x4.mul(f32x4.add(f32x4.mul(g0, f32x4.splat(0.25)), g2), f32x4.splat(1.0 / 6.0)); // g0/24 + g2/6
  const m = f32x4.mul(g1, f32x4.splat(1.0 / 12.0));
  v128.store(dst, f32x4.mul(g0, f32x4.splat(0.25)));
  v128.store(dst + step, f32x4.mul(f32x4.add(s, g1), f32x4.splat(-1.0 / 6.0)));
  v128.store(dst + 2 * step, f32x4.mul(f32x4.sub(s, g1), f32x4.splat(-1.0 / 6.0)));
  v128.store(dst + 3 * step, f32x4.add(h, m));
  v128.store(dst + 4 * step, f32x4.sub(h, m));
  v128.store(dst + 5 * step, g2);
}

/** U = G g G^T of the four kernels in gbuf; U_xi (four lanes) is stored at dst + xi * uStride. */
export function transformG4(dst: usize, uStride: usize): void {
  // Columns of g: tbuf[i][j] = (G g)_ij for j < 3; then rows: U_(i,k) = (tbuf G^T)_ik.
  for (let j: usize = 0; j < 3; j++) weightColumn(v128.load(gbuf + (j << 4)), v128.load(gbuf + ((3 + j) << 4)), v128.load(gbuf + ((6 + j) << 4)), tbuf + (j << 4), 48);
  for (let i: usize = 0; i < 6; i++) {
    const r = tbuf + i * 48;
    weightColumn(v128.load(r), v128.load(r, 16), v128.load(r, 32), dst + i * 6 * uStride, uStride);
  }
}

/** Weight transform, packed for the products as B panels per xi: [Fp/8][Cp][8] (as winograd.ts's wgWeights). */
function wg4Weights(w: usize, F: i32, C: i32, U: usize): void {
  const Cp = wgCp(C), Fp = wgFp(F);
  const uStride = xiStride(Cp * Fp);
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
      transformG4(panel + (<usize>c << 5), uStride);
    }
  }
}

/**
 * M_xi [T x Fp] = V_xi [T x Cp] * U_xi [Cp x Fp] for all 36 xi (T a multiple of 4, Fp of 8; V and M hold Tp rows per xi). Each V_xi is first packed
 * into A panels [T/4][Cp][4] at ap (Tp x Cp floats; one pass over V, next to Fp/8 passes of the product).
 */
function wgProducts(V: usize, U: usize, M: usize, T: i32, Tp: i32, Cp: i32, Fp: i32, ap: usize): void {
  const vStride = xiStride(Tp * Cp), uStride = xiStride(Cp * Fp), mStride = xiStride(Tp * Fp);
  const ldc = <usize>Fp << 2, panel = <usize>(Cp * MR) << 2;
  for (let xi = 0; xi < POSITIONS; xi++) {
    const v = V + <usize>xi * vStride, u = U + <usize>xi * uStride, m = M + <usize>xi * mStride;
    packA(T, Cp, v, Cp, 1, ap, panel);
    for (let fb = 0; fb < Fp; fb += 8) {
      const b = u + <usize>(fb * Cp << 2);
      let a = ap;
      for (let tb = 0; tb < T; tb += 4) {
        kernel4x8packed(Cp, a, b, 32, m + (<usize>(tb * Fp + fb) << 2), ldc);
        a += panel;
      }
    }
  }
}

/** The four outputs of A^T applied to one column (m0..m5), stored `step` bytes apart from dst. */
// @ts-ignore: decorator
@inline function outputColumn(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, step: usize): void {
  const p = f32x4.add(m1, m2), q = f32x4.sub(m1, m2), r = f32x4.add(m3, m4), u = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, p), r));
  v128.store(dst + step, f32x4.add(q, f32x4.mul(u, f32x4.splat(2))));
  v128.store(dst + 2 * step, f32x4.add(p, f32x4.mul(r, f32x4.splat(4))));
  v128.store(dst + 3 * step, f32x4.add(f32x4.add(q, f32x4.mul(u, f32x4.splat(8))), m5));
}

const obuf = memory.data(16 * 16, 16); // one tile's 4 x 4 output vectors (4 filters each)

/** Lane l of v to p + l * plane. */
// @ts-ignore: decorator
@inline function wgStore4(v: v128, p: usize, plane: usize): void {
  v128.store32_lane(p, v, 0);
  v128.store32_lane(p + plane, v, 1);
  v128.store32_lane(p + 2 * plane, v, 2);
  v128.store32_lane(p + 3 * plane, v, 3);
}

/** Output transform of one image's tiles (M rows t0..): y [F][OH][OW] = A^T M A + b. */
function wg4Output(M: usize, Tp: i32, Fp: i32, t0: i32, tilesY: i32, tilesX: i32, bias: usize, y: usize, F: i32, OH: i32, OW: i32): void {
  const mStride = xiStride(Tp * Fp);
  const plane = <usize>(OH * OW) << 2, rowBytes = <usize>OW << 2;
  let t = t0;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++, t++) {
      const oy = 4 * ty, ox = 4 * tx;
      const rows = imin(4, OH - oy), cols = imin(4, OW - ox);
      for (let f = 0; f < F; f += 4) {
        const m = M + (<usize>(t * Fp + f) << 2);
        // Columns: tbuf[r][j] = (A^T M)_rj; then rows: out[r][k] = (tbuf A)_rk.
        for (let j: usize = 0; j < 6; j++) {
          const p = m + j * mStride;
          outputColumn(v128.load(p), v128.load(p + 6 * mStride), v128.load(p + 12 * mStride), v128.load(p + 18 * mStride),
            v128.load(p + 24 * mStride), v128.load(p + 30 * mStride), tbuf + (j << 4), 96);
        }
        for (let r: usize = 0; r < 4; r++) {
          const s = tbuf + r * 96;
          outputColumn(v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48), v128.load(s, 64), v128.load(s, 80), obuf + (r << 6), 16);
        }
        const o = y + (<usize>(f * OH * OW + oy * OW + ox) << 2);
        if (rows == 4 && cols == 4 && f + 4 <= F) {
          const bv = v128.load(bias + <usize>(f << 2));
          for (let r: usize = 0; r < 4; r++) {
            const src = obuf + (r << 6), dst = o + r * rowBytes;
            wgStore4(f32x4.add(v128.load(src), bv), dst, plane);
            wgStore4(f32x4.add(v128.load(src, 16), bv), dst + 4, plane);
            wgStore4(f32x4.add(v128.load(src, 32), bv), dst + 8, plane);
            wgStore4(f32x4.add(v128.load(src, 48), bv), dst + 12, plane);
          }
        } else {
          // Edge tiles and the last filters: only real outputs are written.
          const lanes = imin(4, F - f);
          for (let l = 0; l < lanes; l++) {
            const b = load<f32>(bias + <usize>((f + l) << 2));
            for (let r = 0; r < rows; r++) {
              for (let k = 0; k < cols; k++) {
                store<f32>(o + <usize>l * plane + <usize>r * rowBytes + (<usize>k << 2), load<f32>(obuf + (<usize>(r * 4 + k) << 4) + (<usize>l << 2)) + b);
              }
            }
          }
        }
      }
    }
  }
}

/** Bytes of the F(4x4, 3x3) filters' prepared form (convPreparedBytes). */
export function wg4PreparedBytes(C: i32, F: i32): usize {
  return POSITIONS * xiStride(wgCp(C) * wgFp(F));
}

/** Images per chunk: V and M of a chunk take about 512 KiB (they stay in L2 between the steps). */
function wg4Chunk(tilesPerImage: i32, Cp: i32, Fp: i32, n: i32): i32 {
  const perImage = POSITIONS * tilesPerImage * (Cp + Fp) * 4;
  const c = (512 * 1024) / perImage;
  return c < 1 ? 1 : c > n ? n : c;
}

/** 3 x 3, stride 1 convolution (any padding) by Winograd F(4x4, 3x3); `prepared` as convForward's. */
export function convForwardWinograd(
  x: usize, w: usize, bias: usize, y: usize, n: i32, C: i32, H: i32, W: i32, F: i32, pad: i32, OH: i32, OW: i32,
  prepared: usize, ready: i32,
): void {
  const Cp = wgCp(C), Fp = wgFp(F);
  const tilesY = (OH + 3) >> 2, tilesX = (OW + 3) >> 2, tpi = tilesY * tilesX;
  const Hq = 4 * tilesY + 2, Wq = 4 * tilesX + 2;
  const U = prepared ? prepared : alloc(wg4PreparedBytes(C, F));
  if (!prepared || !ready) wg4Weights(w, F, C, U);
  const qBytes = <usize>(Hq * Wq * Cp) << 2;
  const Q = alloc(qBytes);
  memory.fill(Q, 0, qBytes);
  const chunk = wg4Chunk(tpi, Cp, Fp, n);
  const Tp = roundUp(chunk * tpi, 4);
  const V = alloc(POSITIONS * xiStride(Tp * Cp)), M = alloc(POSITIONS * xiStride(Tp * Fp)), ap = alloc(<usize>(Tp * Cp) << 2);
  const vStride = xiStride(Tp * Cp);
  for (let i0 = 0; i0 < n; i0 += chunk) {
    const cn = imin(chunk, n - i0);
    for (let i = 0; i < cn; i++) {
      toChannelsLast(x + <usize>((i0 + i) * C * H * W << 2), C, H, W, pad, Q, Wq, Cp);
      wg4Input(Q, Wq, Cp, tilesY, tilesX, V, i * tpi, vStride);
    }
    // As in F(2x2, 3x3): rows of V past the chunk's last tile are never read back through M.
    wgProducts(V, U, M, roundUp(cn * tpi, 4), Tp, Cp, Fp, ap);
    for (let i = 0; i < cn; i++) {
      wg4Output(M, Tp, Fp, i * tpi, tilesY, tilesX, bias, y + <usize>((i0 + i) * F * OH * OW << 2), F, OH, OW);
    }
  }
}
