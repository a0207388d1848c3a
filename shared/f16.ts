// IEEE 754 binary16 ("half") <-> float32 conversion, by hand: Node 20 has no Float16Array or
// Math.f16round. Rounding is round-to-nearest, ties-to-even (what hardware and numpy do), so a file
// written here reads back the same in any other f16 implementation.

// One float32 seen as its bits. Both views use the platform's byte order, so the bit pattern is
// right on any machine.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bit pattern (0..0xffff) nearest to x. Overflow gives +-Infinity, NaN stays NaN. */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Infinity or (quiet) NaN
  const e = exp - 127 + 15; // rebias the exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: Infinity
  if (e <= 0) {
    // Subnormal half (or zero): value = m * 2^-24 with m = full mantissa >> (14 - e).
    if (e < -10) return sign; // below half the smallest subnormal: rounds to +-0
    const full = mant | 0x800000;
    const shift = 14 - e;
    let h = full >>> shift;
    const rest = full & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rest > half || (rest === half && (h & 1))) h++; // may carry into the smallest normal: still right
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // a carry may reach Infinity: still right
  return sign | h;
}

/** The value of a binary16 bit pattern (exact: every half is a float32). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** Largest finite binary16 value. */
export const F16_MAX = 65504;

let table: Float32Array | null = null;

/** All 65536 half values, indexed by bit pattern: decoding a large tensor becomes one lookup per
 *  value (several times faster than f16ToF32, which matters for a Worker's cold start). */
export function f16Table(): Float32Array {
  if (!table) {
    table = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) table[h] = f16ToF32(h);
  }
  return table;
}
