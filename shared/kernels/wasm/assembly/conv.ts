// Convolutions pack their B operand straight from the image through two offset tables (im2col
// without the column matrix); 3 x 3 stride-1 ones with >= 8 input channels use Winograd F(4x4, 3x3),
// forward (winograd-forward.ts) and backward (winograd-backward.ts).

import { alloc, imin, blockOf, roundUp, copyFloats, fillFloats, sumFloats } from "./memory";
import { MR, NR, KC, NC, packA, packB, macro } from "./gemm";
import { convBackwardWinograd } from "./winograd-backward";
import { convForwardWinograd, wg4PreparedBytes } from "./winograd-forward";

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
 * (Those figures were F(2x2, 3x3).) F(4x4, 3x3) is another 1.45-1.65x forward and 1.47-1.57x
 * backward on airbench's convolutions at batch 256 (conv2-conv7, measured alternating with
 * F(2x2, 3x3) in one process), for float32 results within ~1e-4 of the exact sums instead of ~1e-5.
 */
function useWinograd(C: i32, k: i32, s: i32): bool {
  return k == 3 && s == 1 && C >= 8;
}

/**
 * Bytes of the filters' prepared form for convForward (Winograd-transformed or packed): a caller that
 * knows the filters will not change keeps it between calls (see convForward's `prepared`).
 */
export function convPreparedBytes(C: i32, F: i32, k: i32, s: i32): usize {
  if (useWinograd(C, k, s)) return wg4PreparedBytes(C, F);
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
