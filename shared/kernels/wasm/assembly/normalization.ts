// Batch normalisation over n x C x HW (channel c of example i is the plane at (i*C + c)*HW): the
// statistics (two passes: mean, then the mean squared deviation, so large means lose no precision),
// the normalisation y = (x - mean) * invstd + bias, and its gradient with batch statistics. Each plane
// is summed in f32x4 lanes and the planes' sums added in f64.

/** Sum of n floats at p, as f64 of four f32 lanes. */
function planeSum(p: usize, n: i32): f64 {
  let s = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) s = f32x4.add(s, v128.load(p + <usize>(i << 2)));
  let t = <f64>f32x4.extract_lane(s, 0) + <f64>f32x4.extract_lane(s, 1) + <f64>f32x4.extract_lane(s, 2) + <f64>f32x4.extract_lane(s, 3);
  for (; i < n; i++) t += <f64>load<f32>(p + <usize>(i << 2));
  return t;
}

/** Sum of (v - mu)^2 over n floats at p. */
function planeSquares(p: usize, n: i32, mu: f32): f64 {
  const m = f32x4.splat(mu);
  let s = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) { const d = f32x4.sub(v128.load(p + <usize>(i << 2)), m); s = f32x4.add(s, f32x4.mul(d, d)); }
  let t = <f64>f32x4.extract_lane(s, 0) + <f64>f32x4.extract_lane(s, 1) + <f64>f32x4.extract_lane(s, 2) + <f64>f32x4.extract_lane(s, 3);
  for (; i < n; i++) { const d = load<f32>(p + <usize>(i << 2)) - mu; t += <f64>(d * d); }
  return t;
}

export function batchnormStats(x: usize, n: i32, C: i32, HW: i32, mean: usize, variance: usize): void {
  const m = <f64>n * <f64>HW;
  for (let c = 0; c < C; c++) {
    let s: f64 = 0;
    for (let i = 0; i < n; i++) s += planeSum(x + (<usize>(i * C + c) * <usize>HW << 2), HW);
    const mu = <f32>(s / m);
    let q: f64 = 0;
    for (let i = 0; i < n; i++) q += planeSquares(x + (<usize>(i * C + c) * <usize>HW << 2), HW, mu);
    store<f32>(mean + (<usize>c << 2), mu);
    store<f32>(variance + (<usize>c << 2), <f32>(q / m));
  }
}

export function batchnormApply(x: usize, y: usize, n: i32, C: i32, HW: i32, mean: usize, invstd: usize, bias: usize): void {
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const mu = load<f32>(mean + (<usize>c << 2)), s = load<f32>(invstd + (<usize>c << 2)), b = load<f32>(bias + (<usize>c << 2));
      const vm = f32x4.splat(mu), vs = f32x4.splat(s), vb = f32x4.splat(b);
      const o = <usize>(i * C + c) * <usize>HW << 2;
      let j = 0;
      for (; j + 4 <= HW; j += 4) {
        const a = <usize>(j << 2);
        v128.store(y + o + a, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o + a), vm), vs), vb));
      }
      for (; j < HW; j++) {
        const a = <usize>(j << 2);
        store<f32>(y + o + a, (load<f32>(x + o + a) - mu) * s + b);
      }
    }
  }
}

export function batchnormBackward(x: usize, dy: usize, dx: usize, dbias: usize, n: i32, C: i32, HW: i32, mean: usize, invstd: usize): void {
  const m = <f64>n * <f64>HW;
  for (let c = 0; c < C; c++) {
    const mu = load<f32>(mean + (<usize>c << 2)), s = load<f32>(invstd + (<usize>c << 2));
    const vm = f32x4.splat(mu), vs = f32x4.splat(s);
    let sdy: f64 = 0, sdyx: f64 = 0;
    for (let i = 0; i < n; i++) {
      const o = <usize>(i * C + c) * <usize>HW << 2;
      let a = f32x4.splat(0), b = f32x4.splat(0);
      let j = 0;
      for (; j + 4 <= HW; j += 4) {
        const q = <usize>(j << 2);
        const g = v128.load(dy + o + q);
        a = f32x4.add(a, g);
        b = f32x4.add(b, f32x4.mul(g, f32x4.mul(f32x4.sub(v128.load(x + o + q), vm), vs)));
      }
      let ta = <f64>f32x4.extract_lane(a, 0) + <f64>f32x4.extract_lane(a, 1) + <f64>f32x4.extract_lane(a, 2) + <f64>f32x4.extract_lane(a, 3);
      let tb = <f64>f32x4.extract_lane(b, 0) + <f64>f32x4.extract_lane(b, 1) + <f64>f32x4.extract_lane(b, 2) + <f64>f32x4.extract_lane(b, 3);
      for (; j < HW; j++) {
        const q = <usize>(j << 2);
        const g = load<f32>(dy + o + q);
        ta += <f64>g;
        tb += <f64>(g * ((load<f32>(x + o + q) - mu) * s));
      }
      sdy += ta;
      sdyx += tb;
    }
    store<f32>(dbias + (<usize>c << 2), <f32>sdy);
    if (dx == 0) continue;
    const ka = <f32>(sdy / m), kb = <f32>(sdyx / m);
    const va = f32x4.splat(ka), vb = f32x4.splat(kb);
    for (let i = 0; i < n; i++) {
      const o = <usize>(i * C + c) * <usize>HW << 2;
      let j = 0;
      for (; j + 4 <= HW; j += 4) {
        const q = <usize>(j << 2);
        const xh = f32x4.mul(f32x4.sub(v128.load(x + o + q), vm), vs);
        v128.store(dx + o + q, f32x4.mul(vs, f32x4.sub(f32x4.sub(v128.load(dy + o + q), va), f32x4.mul(xh, vb))));
      }
      for (; j < HW; j++) {
        const q = <usize>(j << 2);
        const xh = (load<f32>(x + o + q) - mu) * s;
        store<f32>(dx + o + q, s * (load<f32>(dy + o + q) - ka - xh * kb));
      }
    }
  }
}
