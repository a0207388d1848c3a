// Pooling is branch-free SIMD where it can be: data-dependent branches mispredict half the time on
// real activations.

// ---------------------------------------------------------------------------------------------
// Max pooling

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

/**
 * 2 x 2 windows, stride 2: four outputs per step, even/odd columns split by shuffles. A row whose
 * width is not a multiple of 4 ends with one step over its last four outputs, overlapping the step
 * before (it recomputes the same values); only rows narrower than 4 go one output at a time.
 */
function maxpool2x2(inp: usize, out: usize, argmax: usize, planes: i32, H: i32, W: i32, OH: i32, OW: i32): void {
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < OH; oy++) {
      const r0 = p * H * W + 2 * oy * W, o = (p * OH + oy) * OW;
      if (OW < 4) {
        for (let ox = 0; ox < OW; ox++) maxpool2x2One(inp, out, argmax, r0, r0 + W, ox, o + ox);
        continue;
      }
      for (let ox = 0; ox < OW; ox += 4) {
        const at = min(ox, OW - 4);
        maxpool2x2Four(inp, out, argmax, r0, r0 + W, at, o + at);
      }
    }
  }
}

/** Outputs o..o+3 of a row: the windows from column 2ox of input rows r0 and r1. */
// @ts-ignore: decorator
@inline function maxpool2x2Four(inp: usize, out: usize, argmax: usize, r0: i32, r1: i32, ox: i32, o: i32): void {
  const i0 = r0 + 2 * ox, i1 = r1 + 2 * ox;
  const s0 = inp + (<usize>i0 << 2), s1 = inp + (<usize>i1 << 2);
  const t0 = v128.load(s0), t1 = v128.load(s0, 16), u0 = v128.load(s1), u1 = v128.load(s1, 16);
  // The window's cells in the reference's scan order: a b / c d.
  const a = i32x4.shuffle(t0, t1, 0, 2, 4, 6), b = i32x4.shuffle(t0, t1, 1, 3, 5, 7);
  const c = i32x4.shuffle(u0, u1, 0, 2, 4, 6), d = i32x4.shuffle(u0, u1, 1, 3, 5, 7);
  const lanes = i32x4(0, 2, 4, 6), one = i32x4.splat(1);
  const ia = i32x4.add(i32x4.splat(i0), lanes), ic = i32x4.add(i32x4.splat(i1), lanes);
  let max = a, idx = ia;
  let m = replaces(b, max);
  max = v128.bitselect(b, max, m); idx = v128.bitselect(i32x4.add(ia, one), idx, m);
  m = replaces(c, max);
  max = v128.bitselect(c, max, m); idx = v128.bitselect(ic, idx, m);
  m = replaces(d, max);
  max = v128.bitselect(d, max, m); idx = v128.bitselect(i32x4.add(ic, one), idx, m);
  v128.store(out + (<usize>o << 2), max);
  v128.store(argmax + (<usize>o << 2), idx);
}

/** Output o alone: the window at column 2ox of input rows r0 and r1, its cells in scan order. */
// @ts-ignore: decorator
@inline function maxpool2x2One(inp: usize, out: usize, argmax: usize, r0: i32, r1: i32, ox: i32, o: i32): void {
  let best = r0 + 2 * ox;
  let max = load<f32>(inp + (<usize>best << 2));
  for (let q = 1; q < 4; q++) {
    const j = (q < 2 ? r0 : r1) + 2 * ox + (q & 1);
    const v = load<f32>(inp + (<usize>j << 2));
    if (v > max || v != v) {
      max = v;
      best = j;
    }
  }
  store<f32>(out + (<usize>o << 2), max);
  store<i32>(argmax + (<usize>o << 2), best);
}

export function maxpoolBackward(dout: usize, argmax: usize, dinp: usize, outLen: i32, inLen: i32): void {
  memory.fill(dinp, 0, <usize>inLen << 2);
  for (let o = 0; o < outLen; o++) {
    const d = dinp + <usize>(load<i32>(argmax + <usize>(o << 2)) << 2);
    store<f32>(d, load<f32>(d) + load<f32>(dout + <usize>(o << 2)));
  }
}
