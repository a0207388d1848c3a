// Central-difference gradient checking for one layer or a whole network, shared by the layer tests,
// the network test and the kernel conformance suite. Values are float32, so the check compares each
// tensor's sampled gradient as a vector: relative error ||analytic - numeric|| / ||analytic + numeric||.
// A correct backward gives ~1e-4..1e-3; a wrong one (a missing term, a transposed product, a 10 %
// scale error) gives > 0.05.

import type { Kernels, Layer, Network } from "../../shared/index.ts";
import { Rng, softmaxCrossEntropy } from "../../shared/index.ts";

export interface GradReport {
  name: string;
  relError: number;
  checked: number;
}

export function relativeError(a: number[], b: number[]): number {
  let diff = 0, sum = 0;
  for (let i = 0; i < a.length; i++) { diff += (a[i] - b[i]) ** 2; sum += (Math.abs(a[i]) + Math.abs(b[i])) ** 2; }
  return sum === 0 ? 0 : Math.sqrt(diff) / Math.sqrt(sum);
}

/** Indices to check: all when small, else a fixed random sample. */
export function sampleIndices(len: number, max: number, rng: Rng): number[] {
  if (len <= max) return Array.from({ length: len }, (_, i) => i);
  return Array.from({ length: max }, () => rng.int(len));
}

/**
 * Values for x spaced at least `gap` apart in magnitude and away from 0, so a perturbation of eps < gap/2
 * never crosses a ReLU kink or swaps a max-pool winner.
 */
export function kinkFreeInput(len: number, rng: Rng, gap = 0.02): Float32Array {
  const order = Array.from({ length: len }, (_, i) => i);
  rng.shuffle(order);
  const x = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    const k = order[i];
    x[i] = (k % 2 === 0 ? 1 : -1) * (0.05 + gap * Math.floor(k / 2));
  }
  const scale = 1 / Math.max(1, 0.05 + gap * len / 2);
  for (let i = 0; i < len; i++) x[i] *= scale * 2;
  return x;
}

/**
 * Checks one layer: loss L = sum(y * R) for a random R, so dL/dy = R. Returns one report for the
 * input gradient and one per param. Dropout gets the same mask in every forward (rng reset).
 */
export function checkLayer(layer: Layer, n: number, kernels: Kernels, opts: { seed?: number; eps?: number; samples?: number; train?: boolean } = {}): GradReport[] {
  const { seed = 7, eps = 1e-3, samples = 60, train = true } = opts;
  const rng = new Rng(seed);
  const inLen = n * layer.inShape[0] * layer.inShape[1] * layer.inShape[2];
  const outLen = n * layer.outShape[0] * layer.outShape[1] * layer.outShape[2];
  layer.resize(n);
  const x = kinkFreeInput(inLen, rng, 0.02 / Math.max(1, inLen / 500));
  for (const p of layer.params) for (let i = 0; i < p.data.length; i++) p.data[i] = (rng.uniform() - 0.5) * 0.4;
  const R = new Float32Array(outLen).map(() => rng.uniform() - 0.5);
  const y = new Float32Array(outLen), dx = new Float32Array(inLen);
  const loss = (): number => {
    layer.forward(x, y, n, { kernels, train, rng: new Rng(seed + 1) });
    let s = 0;
    for (let i = 0; i < outLen; i++) s += y[i] * R[i];
    return s;
  };
  loss();
  layer.backward(x, y, R, dx, n, kernels);
  const targets = [{ name: `${layer.name} input`, data: x, grad: dx.slice() }, ...layer.params.map((p) => ({ name: p.name, data: p.data, grad: p.grad.slice() }))];
  return targets.map(({ name, data, grad }) => {
    const idx = sampleIndices(data.length, samples, rng);
    const analytic: number[] = [], numeric: number[] = [];
    for (const i of idx) {
      const old = data[i];
      data[i] = old + eps; const lp = loss();
      data[i] = old - eps; const lm = loss();
      data[i] = old;
      numeric.push((lp - lm) / (2 * eps));
      analytic.push(grad[i]);
    }
    return { name, relError: relativeError(analytic, numeric), checked: idx.length };
  });
}

export function randomBatch(net: Network, n: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * net.inputSize).map(() => rng.uniform());
  const labels = new Int32Array(n).map(() => rng.int(net.classes));
  return { x, labels };
}

/**
 * Gradient check of the whole network's loss (softmax cross-entropy, dropout on with a fixed mask).
 * Deep in the net a perturbation can cross a ReLU or max-pool kink, so the tolerance is looser than
 * the per-layer checks (measured: <= 1.7e-2 for conv1, ~1e-4 elsewhere); a dropped or wrong
 * gradient gives > 0.5.
 */
export function checkNetwork(net: Network, n: number, seed: number, eps = 1e-3, samples = 24) {
  const { x, labels } = randomBatch(net, n, seed);
  const dlogits = new Float32Array(n * net.classes);
  const rngState = net.rng.getState();
  const loss = (withGrad: boolean): number => {
    net.rng.setState(rngState); // same dropout mask in every evaluation
    const logits = net.forward(x, n, true);
    return softmaxCrossEntropy(logits, labels, n, net.classes, withGrad ? dlogits : null).loss;
  };
  loss(true);
  net.backward(dlogits, n);
  const rng = new Rng(seed + 1);
  return net.params.filter((p) => p.trainable !== false).map((p) => {
    const grad = p.grad.slice();
    const idx = sampleIndices(p.data.length, samples, rng);
    const analytic: number[] = [], numeric: number[] = [];
    for (const i of idx) {
      const old = p.data[i];
      p.data[i] = old + eps; const lp = loss(false);
      p.data[i] = old - eps; const lm = loss(false);
      p.data[i] = old;
      analytic.push(grad[i]); numeric.push((lp - lm) / (2 * eps));
    }
    return { name: p.name, relError: relativeError(analytic, numeric) };
  });
}

