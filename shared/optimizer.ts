// Optimisers with explicit, serialisable state: Adam (default), plain SGD and SGD with momentum.
// State is plain data (hyperparameters, step count, one Float32Array slot per param per moment) so a
// checkpoint can store it and a resumed run continues exactly.

import type { Param } from "./layers/layer.ts";

export type OptimizerKind = "adam" | "sgd" | "momentum";

export interface OptimizerHyper {
  lr: number;
  beta1: number; // Adam
  beta2: number; // Adam
  eps: number; // Adam
  momentum: number; // SGD with momentum
  weightDecay: number; // decoupled (AdamW-style): p -= lr * wd * p, applied to weights, not biases
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

  constructor(kind: OptimizerKind, params: Param[], hyper: Partial<OptimizerHyper> = {}) {
    if (!["adam", "sgd", "momentum"].includes(kind)) throw new Error(`unknown optimizer "${kind}" (expected adam, sgd or momentum)`);
    this.kind = kind;
    this.hyper = { ...DEFAULT_HYPER, ...(kind === "adam" ? {} : { lr: 1e-2 }), ...hyper };
    const perParam = kind === "adam" ? 2 : kind === "momentum" ? 1 : 0;
    this.slots = params.flatMap((p) => Array.from({ length: perParam }, () => new Float32Array(p.data.length)));
  }

  /** Applies one update to every param from its grad. */
  step(params: Param[]): void {
    this.t++;
    const { lr, beta1, beta2, eps, momentum, weightDecay } = this.hyper;
    const bc1 = 1 - Math.pow(beta1, this.t), bc2 = 1 - Math.pow(beta2, this.t);
    for (let pi = 0; pi < params.length; pi++) {
      const { data, grad, shape } = params[pi];
      const n = data.length;
      if (weightDecay > 0 && shape.length > 1) {
        const f = 1 - lr * weightDecay;
        for (let i = 0; i < n; i++) data[i] *= f;
      }
      if (this.kind === "adam") {
        const m = this.slots[2 * pi], v = this.slots[2 * pi + 1];
        const a = lr / bc1, sb = 1 / Math.sqrt(bc2);
        for (let i = 0; i < n; i++) {
          const g = grad[i];
          m[i] = beta1 * m[i] + (1 - beta1) * g;
          v[i] = beta2 * v[i] + (1 - beta2) * g * g;
          data[i] -= (a * m[i]) / (Math.sqrt(v[i]) * sb + eps);
        }
      } else if (this.kind === "momentum") {
        const v = this.slots[pi];
        for (let i = 0; i < n; i++) {
          v[i] = momentum * v[i] - lr * grad[i];
          data[i] += v[i];
        }
      } else {
        for (let i = 0; i < n; i++) data[i] -= lr * grad[i];
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
