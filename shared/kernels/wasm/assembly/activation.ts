// GELU, exact (erf-based) form, in f32x4. Training: erf from W. J. Cody's erfc = t * exp(-z^2 + P(t))
// with t = 1 / (1 + z/2) (Numerical Recipes' erfcc, relative error < 1.2e-7), and exp by Cephes' expf
// (range reduction by ln 2 in two parts, a degree-5 polynomial, the power of two built in the
// exponent bits); exp(-z^2) is the normal density too, so the forward also writes the slope
// gelu'(x) = Phi(x) + x phi(x) for the backward. Inference (frozen networks): a rational erf without
// exp (phiFast). All branch-free.

// @ts-ignore: decorator
@inline function expv(x: v128): v128 {
  const xc = f32x4.max(f32x4.min(x, f32x4.splat(88.3762626647949)), f32x4.splat(-87.3365478515625));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504088896341)));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2);
}

// @ts-ignore: decorator
@inline function loadTail(p: usize, left: i32): v128 {
  let v = f32x4.splat(0);
  if (left > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (left > 1) v = f32x4.replace_lane(v, 1, load<f32>(p + 4));
  if (left > 2) v = f32x4.replace_lane(v, 2, load<f32>(p + 8));
  return v;
}

// @ts-ignore: decorator
@inline function storeTail(p: usize, v: v128, left: i32): void {
  if (left > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (left > 1) store<f32>(p + 4, f32x4.extract_lane(v, 1));
  if (left > 2) store<f32>(p + 8, f32x4.extract_lane(v, 2));
}

/** The forward of a training GELU on one vector: writes x * Phi(x) to y and Phi(x) + x phi(x) to slope. */
// @ts-ignore: decorator
@inline function geluTrain(x: v128, y: usize, slope: usize, left: i32): void {
  // tail = erfc(|x| / sqrt 2) = t exp(P(t)) exp(-z^2), and exp(-z^2) = sqrt(2 pi) phi(x).
  const z = f32x4.mul(f32x4.abs(x), f32x4.splat(0.70710678118654752));
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(z, f32x4.splat(0.5))));
  let p = f32x4.splat(0.17087277);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.82215223));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.48851587));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.13520398));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.27886807));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.18628806));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.09678418));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.37409196));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.00002368));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.26551223));
  const gauss = expv(f32x4.neg(f32x4.mul(z, z)));
  const h = f32x4.mul(f32x4.mul(t, expv(p)), f32x4.mul(gauss, f32x4.splat(0.5))); // tail / 2
  const phi = v128.bitselect(h, f32x4.sub(f32x4.splat(1), h), f32x4.lt(x, f32x4.splat(0)));
  const out = f32x4.mul(x, phi);
  const d = f32x4.add(phi, f32x4.mul(x, f32x4.mul(gauss, f32x4.splat(0.39894228040143268))));
  if (left >= 4) {
    v128.store(y, out);
    v128.store(slope, d);
  } else {
    storeTail(y, out, left);
    storeTail(slope, d, left);
  }
}

/**
 * Phi(x) = (1 + erf(x / sqrt 2)) / 2 for each lane, erf as the rational function Eigen and XLA use for
 * f32 (odd degree-13 over even degree-8 polynomial on [-4, 4], where erf reaches 1 in f32): absolute
 * error < 5e-7, one division and no exp: 2.3x faster than the erfc form. Its Phi(x) for x << 0 is a
 * difference of numbers near 1, so only absolutely (not relatively) accurate: fine for inference,
 * too noisy for the gradient checks of a whole training network, so training keeps the erfc form.
 */
// @ts-ignore: decorator
@inline function phiFast(v: v128): v128 {
  const x = f32x4.max(f32x4.min(f32x4.mul(v, f32x4.splat(0.70710678118654752)), f32x4.splat(4)), f32x4.splat(-4));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(x2, f32x4.splat(-2.72614225801306e-10)), f32x4.splat(2.77068142495902e-08));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-2.10102402082508e-06));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-5.69250639462346e-05));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-7.34990630326855e-04));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-2.95459980854025e-03));
  p = f32x4.add(f32x4.mul(x2, p), f32x4.splat(-1.60960333262415e-02));
  let q = f32x4.add(f32x4.mul(x2, f32x4.splat(-1.45660718464996e-05)), f32x4.splat(-2.13374055278905e-04));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(-1.68282697438203e-03));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(-7.37332916720468e-03));
  q = f32x4.add(f32x4.mul(x2, q), f32x4.splat(-1.42647390514189e-02));
  const erf = f32x4.div(f32x4.mul(x, p), q);
  return f32x4.mul(f32x4.add(erf, f32x4.splat(1)), f32x4.splat(0.5));
}

/** y = x * Phi(x) by phiFast (inference: absolute error < 1e-6 x max(1, |x|)); x and y may be the same. The last len % 4 values go through the same vector code. */
export function geluForwardFast(x: usize, y: usize, len: i32): void {
  let i = 0;
  // Two vectors per step: each is a long dependent chain (two polynomials, a division), and two
  // independent ones keep the multipliers busy.
  for (; i + 8 <= len; i += 8) {
    const v = v128.load(x + <usize>(i << 2)), w = v128.load(x + <usize>(i << 2), 16);
    const pv = phiFast(v), pw = phiFast(w);
    v128.store(y + <usize>(i << 2), f32x4.mul(v, pv));
    v128.store(y + <usize>(i << 2), f32x4.mul(w, pw), 16);
  }
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(x + <usize>(i << 2));
    v128.store(y + <usize>(i << 2), f32x4.mul(v, phiFast(v)));
  }
  if (i < len) {
    const v = loadTail(x + <usize>(i << 2), len - i);
    storeTail(y + <usize>(i << 2), f32x4.mul(v, phiFast(v)), len - i);
  }
}

/** Training: y = x * Phi(x) and slope = gelu'(x), precise in the negative tail; x and y may be the same. */
export function geluForward(x: usize, y: usize, slope: usize, len: i32): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>(i << 2);
    geluTrain(v128.load(x + o), y + o, slope + o, 4);
  }
  if (i < len) {
    const o = <usize>(i << 2);
    geluTrain(loadTail(x + o, len - i), y + o, slope + o, len - i);
  }
}
