// The patch-whitening filters of airbench's first layer, computed from training images: the
// eigenvectors of the covariance (uncentred second moment, as airbench) of all k x k x C patches,
// each scaled by 1/sqrt(eigenvalue + eps), in both signs (2*C*k*k filters), largest eigenvalue first.
// After it, the patches' components are decorrelated with unit variance: the first conv sees
// whitened input, which is worth about a third of the epochs (airbench's ablation).

/**
 * Filters [2*D x C x k x k] (D = C*k*k) from `count` images [C x H x W] in `images` (float, as the
 * network sees them). Uses every k x k patch at stride 1.
 */
export function whiteningFilters(images: Float32Array, count: number, C: number, H: number, W: number, k: number, eps = 5e-4): Float32Array {
  const D = C * k * k, cov = new Float64Array(D * D), patch = new Float64Array(D);
  let patches = 0;
  for (let n = 0; n < count; n++) {
    const base = n * C * H * W;
    for (let y = 0; y + k <= H; y++) {
      for (let x = 0; x + k <= W; x++) {
        let d = 0;
        for (let c = 0; c < C; c++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) patch[d++] = images[base + (c * H + y + i) * W + x + j];
        for (let a = 0; a < D; a++) { const pa = patch[a]; for (let b = a; b < D; b++) cov[a * D + b] += pa * patch[b]; }
        patches++;
      }
    }
  }
  for (let a = 0; a < D; a++) for (let b = a; b < D; b++) { cov[a * D + b] /= patches; cov[b * D + a] = cov[a * D + b]; }
  const { values, vectors } = symmetricEigen(cov, D);
  const order = Array.from({ length: D }, (_, i) => i).sort((i, j) => values[j] - values[i]);
  const out = new Float32Array(2 * D * D);
  order.forEach((e, f) => {
    const s = 1 / Math.sqrt(Math.max(0, values[e]) + eps);
    for (let d = 0; d < D; d++) {
      const v = vectors[d * D + e] * s;
      out[f * D + d] = v;
      out[(D + f) * D + d] = -v;
    }
  });
  return out;
}

/**
 * Eigen-decomposition of a symmetric D x D matrix (row-major) by cyclic Jacobi rotations: values[i]
 * with eigenvector column i of `vectors` (vectors[row * D + i]). Exact enough for D = 12 in a few sweeps.
 */
export function symmetricEigen(matrix: Float64Array, D: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix), v = new Float64Array(D * D);
  for (let i = 0; i < D; i++) v[i * D + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < D; p++) for (let q = p + 1; q < D; q++) off += a[p * D + q] * a[p * D + q];
    if (off < 1e-30) break;
    for (let p = 0; p < D; p++) {
      for (let q = p + 1; q < D; q++) {
        const apq = a[p * D + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * D + q] - a[p * D + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < D; k++) { // columns p, q of a
          const akp = a[k * D + p], akq = a[k * D + q];
          a[k * D + p] = c * akp - s * akq;
          a[k * D + q] = s * akp + c * akq;
        }
        for (let k = 0; k < D; k++) { // rows p, q of a
          const apk = a[p * D + k], aqk = a[q * D + k];
          a[p * D + k] = c * apk - s * aqk;
          a[q * D + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < D; k++) {
          const vkp = v[k * D + p], vkq = v[k * D + q];
          v[k * D + p] = c * vkp - s * vkq;
          v[k * D + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(D);
  for (let i = 0; i < D; i++) values[i] = a[i * D + i];
  return { values, vectors: v };
}
