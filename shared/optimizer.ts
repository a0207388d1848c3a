// Optimisers with explicit, serialisable state: Adam (default), plain SGD, SGD with momentum, and
// Nesterov SGD as PyTorch computes it (airbench's optimiser, weight decay added to the gradient).
// Parameters marked trainable: false are state and never updated; a parameter's `group` scales its
// learning rate by hyper.groupLr[group] (0 freezes it: airbench's whitening bias after 3 epochs). A group
// may name several groups joined by "." ("body.norm": a fine-tuned body's batchnorm bias): its multiplier
// is the product of theirs, so a body multiplier and airbench's per-kind multipliers compose.
// State is plain data (hyperparameters, step count, one Float32Array slot per param per moment) so a
// checkpoint can store it and a resumed run continues exactly.
// The update is elementwise, so threads can share it: Optimizers whose slots live in one shared
// storage each update their own range of the parameters (updateRange) with the same t and hyper.

import type { Param } from "./layers/layer.ts";

export type OptimizerKind = "adam" | "sgd" | "momentum" | "nesterov";
export const OPTIMIZERS: readonly OptimizerKind[] = ["adam", "sgd", "momentum", "nesterov"];

export interface OptimizerHyper {
  lr: number;
  beta1: number; // Adam
  beta2: number; // Adam
  eps: number; // Adam
  momentum: number; // SGD with momentum, Nesterov
  /** adam/sgd/momentum: decoupled (AdamW-style) p -= lr * wd * p, applied to weights, not biases.
   *  nesterov: PyTorch's, g += (wd / groupLr) * p for every trained tensor, so lr * wd is the same in
   *  every group (airbench's "decoupled from the bias scaler" form). */
  weightDecay: number;
  /** Learning-rate multiplier per parameter group (Param.group; "a.b" multiplies a's and b's); groups not listed use 1. */
  groupLr?: Record<string, number>;
}

export interface OptimizerState {
  kind: OptimizerKind;
  hyper: OptimizerHyper;
  t: number;
  slots: Float32Array[]; // adam: m0, v0, m1, v1, ...; momentum: v0, v1, ...; sgd: none
}

export const DEFAULT_HYPER: OptimizerHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentum: 0.9, weightDecay: 0 };

export class Optimizer {
  readonly kind: OptimizerKind;
  hyper: OptimizerHyper;
  t = 0;
  private slots: Float32Array[];

  /**
   * `storage`: one flat array for all slots (slotStorageSize values, e.g. SharedArrayBuffer-backed so
   * that several threads' Optimizers share them); its contents are the initial slots.
   */
  constructor(kind: OptimizerKind, params: Param[], hyper: Partial<OptimizerHyper> = {}, storage?: Float32Array) {
    if (!OPTIMIZERS.includes(kind)) throw new Error(`unknown optimizer "${kind}" (expected ${OPTIMIZERS.join(", ")})`);
    this.kind = kind;
    this.hyper = { ...DEFAULT_HYPER, ...(kind === "adam" ? {} : { lr: 1e-2 }), ...hyper };
    const size = params.reduce((s, p) => s + p.data.length, 0), perParam = slotsPerParam(kind);
    const flat = storage ?? new Float32Array(perParam * size);
    if (flat.length !== perParam * size) throw new RangeError(`optimizer storage holds ${flat.length} values; ${kind} needs ${perParam * size}`);
    // Moment k of all params is flat[k*size, (k+1)*size), params in order; slots lists them per param.
    this.slots = [];
    let offset = 0;
    for (const p of params) {
      for (let k = 0; k < perParam; k++) this.slots.push(flat.subarray(k * size + offset, k * size + offset + p.data.length));
      offset += p.data.length;
    }
  }

  /** Applies one update to every param from its grad. */
  step(params: Param[]): void {
    this.t++;
    this.updateRange(params, 0, Infinity);
  }

  /**
   * The update of step `this.t` (already advanced) for elements [from, to) of the params taken as one
   * flat vector in order. step() is t++ and the update of everything.
   */
  updateRange(params: Param[], from: number, to: number): void {
    const { beta1, beta2, eps, momentum, weightDecay, groupLr } = this.hyper;
    const bc1 = 1 - Math.pow(beta1, this.t), bc2 = 1 - Math.pow(beta2, this.t);
    for (let pi = 0, offset = 0; pi < params.length; offset += params[pi].data.length, pi++) {
      const { data, grad, shape, trainable, group } = params[pi];
      const lo = Math.max(0, from - offset), hi = Math.min(data.length, to - offset);
      if (lo >= hi || trainable === false) continue;
      const scale = groupScale(group, groupLr);
      if (scale === 0) continue;
      const lr = this.hyper.lr * scale;
      if (this.kind === "nesterov") {
        const v = this.slots[pi], wd = weightDecay / scale;
        for (let i = lo; i < hi; i++) {
          const g = grad[i] + wd * data[i];
          const vi = momentum * v[i] + g;
          v[i] = vi;
          data[i] -= lr * (g + momentum * vi);
        }
        continue;
      }
      if (weightDecay > 0 && shape.length > 1) {
        const f = 1 - lr * weightDecay;
        for (let i = lo; i < hi; i++) data[i] *= f;
      }
      if (this.kind === "adam") {
        const m = this.slots[2 * pi], v = this.slots[2 * pi + 1];
        const a = lr / bc1, sb = 1 / Math.sqrt(bc2);
        for (let i = lo; i < hi; i++) {
          const g = grad[i];
          m[i] = beta1 * m[i] + (1 - beta1) * g;
          v[i] = beta2 * v[i] + (1 - beta2) * g * g;
          data[i] -= (a * m[i]) / (Math.sqrt(v[i]) * sb + eps);
        }
      } else if (this.kind === "momentum") {
        const v = this.slots[pi];
        for (let i = lo; i < hi; i++) {
          v[i] = momentum * v[i] - lr * grad[i];
          data[i] += v[i];
        }
      } else {
        for (let i = lo; i < hi; i++) data[i] -= lr * grad[i];
      }
    }
  }

  getState(): OptimizerState {
    return { kind: this.kind, hyper: { ...this.hyper }, t: this.t, slots: this.slots.map((s) => s.slice()) };
  }

  setState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`optimizer state is for ${state.kind}, not ${this.kind}`);
    if (state.slots.length !== this.slots.length || state.slots.some((s, i) => s.length !== this.slots[i].length)) {
      throw new Error("optimizer state does not match this network's parameters");
    }
    this.hyper = { ...state.hyper };
    this.t = state.t;
    state.slots.forEach((s, i) => this.slots[i].set(s));
  }
}

/** A group's learning-rate multiplier: the product over its "."-separated names (1 for names not listed). */
export function groupScale(group: string | undefined, groupLr: Record<string, number> | undefined): number {
  if (group === undefined || !groupLr) return 1;
  let scale = 1;
  for (const g of group.split(".")) scale *= groupLr[g] ?? 1;
  return scale;
}

/** Moments kept per parameter value: Adam 2 (m, v), momentum 1, SGD 0. */
export function slotsPerParam(kind: OptimizerKind): number {
  return kind === "adam" ? 2 : kind === "momentum" || kind === "nesterov" ? 1 : 0;
}
