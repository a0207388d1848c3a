// Builds a network from an architecture spec and runs it: forward (inference or training) and
// backward on flat NCHW batches. Activation and gradient buffers are allocated once per batch size,
// so a training step at a fixed batch size allocates nothing.

import type { Kernels } from "./kernels/kernels.ts";
import { tsKernels } from "./kernels/ts-kernels.ts";
import { AffineLayer } from "./layers/affine.ts";
import { ConvLayer } from "./layers/conv.ts";
import { DropoutLayer } from "./layers/dropout.ts";
import type { Layer, MaskStreams, Param } from "./layers/layer.ts";
import { MaxPoolLayer } from "./layers/maxpool.ts";
import { ReluLayer } from "./layers/relu.ts";
import { BatchnormLayer } from "./layers/batchnorm.ts";
import { GeluLayer } from "./layers/gelu.ts";
import { GlobalPoolLayer } from "./layers/globalpool.ts";
import { ScaleLayer } from "./layers/scale.ts";
import { Rng } from "./rng.ts";
import { resolveSpec, shapeSize, type ArchSpec } from "./spec.ts";

export class Network {
  readonly layers: Layer[];
  readonly params: Param[];
  readonly classes: number;
  readonly inputSize: number;
  /** Dropout masks come from here; its state is part of a training checkpoint. */
  readonly rng: Rng;
  kernels: Kernels;
  /** True after freeze(): the weights are final and backward() is refused. */
  frozen = false;
  private batch = 0;
  private acts: Float32Array[] = []; // acts[0] = input copy, acts[i+1] = output of layer i
  private grads: Float32Array[] = [];

  /**
   * `storage` puts every parameter's values and/or gradients in one flat array (params order, as
   * `paramViews` lays it out) instead of one array each, e.g. SharedArrayBuffer-backed so that worker
   * threads share the weights; the arrays' current contents become the values.
   */
  constructor(readonly spec: ArchSpec, options: { kernels?: Kernels; seed?: number; storage?: { params?: Float32Array; grads?: Float32Array } } = {}) {
    this.kernels = options.kernels ?? tsKernels;
    this.rng = new Rng(options.seed ?? 1);
    this.layers = resolveSpec(spec).map((l): Layer => {
      switch (l.type) {
        case "conv": return new ConvLayer(l.name, l.inShape, l.outShape, l.size, l.stride ?? 1, l.pad ?? 0, l.bias ?? true, l.init ?? "he");
        case "relu": return new ReluLayer(l.name, l.inShape, l.outShape);
        case "gelu": return new GeluLayer(l.name, l.inShape, l.outShape);
        case "pool": return new MaxPoolLayer(l.name, l.inShape, l.outShape, l.size, l.stride ?? l.size);
        case "globalpool": return new GlobalPoolLayer(l.name, l.inShape, l.outShape, l.mode);
        case "batchnorm": return new BatchnormLayer(l.name, l.inShape, l.outShape, l.eps);
        case "scale": return new ScaleLayer(l.name, l.inShape, l.outShape, l.factor);
        case "dropout": return new DropoutLayer(l.name, l.inShape, l.outShape, l.ratio);
        case "affine": return new AffineLayer(l.name, l.inShape, l.outShape, l.bias ?? true);
      }
    });
    this.params = this.layers.flatMap((l) => l.params);
    const { params, grads } = options.storage ?? {};
    if (params) paramViews(params, this.params).forEach((v, i) => { this.params[i].data = v; });
    if (grads) paramViews(grads, this.params).forEach((v, i) => { this.params[i].grad = v; });
    this.inputSize = shapeSize(spec.input);
    this.classes = this.layers[this.layers.length - 1].outShape[0];
  }

  get parameterCount(): number {
    return this.params.reduce((s, p) => s + p.data.length, 0);
  }

  private ensureBatch(n: number): void {
    if (n === this.batch) return;
    this.batch = n;
    this.acts = [new Float32Array(n * this.inputSize), ...this.layers.map((l) => new Float32Array(n * shapeSize(l.outShape)))];
    this.grads = this.acts.map((a) => new Float32Array(a.length));
    for (const l of this.layers) l.resize(n);
  }

  /**
   * Runs n examples (x: n x C x H x W, values as the model expects) and returns the logits
   * [n x classes]. The returned array is an internal buffer, overwritten by the next call.
   * In training, dropout masks come from `this.rng` in order, or from per-example streams if `masks`.
   */
  forward(x: Float32Array, n: number, train = false, masks?: MaskStreams): Float32Array {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`batch size must be a positive integer, got ${n}`);
    if (x.length < n * this.inputSize) {
      throw new RangeError(`input has ${x.length} values, expected ${n} x ${this.spec.input.join("x")} = ${n * this.inputSize}`);
    }
    this.ensureBatch(n);
    const acts = this.acts;
    acts[0].set(x.length === acts[0].length ? x : x.subarray(0, acts[0].length));
    const ctx = { kernels: this.kernels, train, rng: this.rng, masks };
    for (let i = 0; i < this.layers.length; i++) this.layers[i].forward(acts[i], acts[i + 1], n, ctx);
    return acts[acts.length - 1];
  }

  /**
   * For inference: declares the current weights final, so the kernels may keep them (and derived
   * forms such as Winograd-transformed filters) in their own memory instead of copying them in on
   * every forward (the Wasm kernels; the TS kernels ignore it). Call after loading the weights. Then
   * `param.data` may be a view of Wasm memory that is replaced when that memory grows: read it
   * afresh, never keep it, and do not change it. backward() is refused from then on.
   */
  freeze(): void {
    if (this.frozen) return;
    this.kernels.freezeParams?.(this.params);
    this.frozen = true;
  }

  /** Backpropagates d(loss)/d(logits) of the last forward pass; fills every param's grad. */
  backward(dlogits: Float32Array, n: number): void {
    if (this.frozen) throw new Error("this network is frozen for inference (Network.freeze()): it cannot be trained");
    if (n !== this.batch) throw new Error(`backward batch ${n} does not match the last forward batch ${this.batch}`);
    const { acts, grads, layers } = this;
    grads[layers.length].set(dlogits.subarray(0, grads[layers.length].length));
    for (let i = layers.length - 1; i >= 0; i--) {
      layers[i].backward(acts[i], acts[i + 1], grads[i + 1], i > 0 ? grads[i] : null, n, this.kernels);
    }
  }

  /**
   * Sets every batchnorm layer's running statistics to the average of its batch statistics over the
   * batches `feed` runs through forward() (any batch size; no gradients). Use training images, as
   * they are fed in training (without augmentation is fine).
   */
  calibrateBatchnorm(feed: (forward: (x: Float32Array, n: number) => void) => void): void {
    const bns = this.layers.filter((l): l is BatchnormLayer => l instanceof BatchnormLayer);
    if (bns.length === 0) return;
    for (const l of bns) l.startCalibration();
    try {
      feed((x, n) => { this.forward(x, n, false); });
    } finally {
      for (const l of bns) l.finishCalibration();
    }
  }

  /** The parameter called `name` ("conv1.weight"). */
  param(name: string): Param {
    const p = this.params.find((q) => q.name === name);
    if (!p) throw new Error(`no parameter ${name}`);
    return p;
  }
}

/** Views of the flat array `flat` for each of `params` in order (it must hold exactly all of them). */
export function paramViews(flat: Float32Array, params: Param[]): Float32Array[] {
  const total = params.reduce((s, p) => s + p.data.length, 0);
  if (flat.length !== total) throw new RangeError(`parameter storage holds ${flat.length} values; the network has ${total}`);
  let offset = 0;
  return params.map((p) => flat.subarray(offset, (offset += p.data.length)));
}
