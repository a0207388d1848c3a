// Inference form of a network with batchnorm: each batchnorm (with its running statistics) is folded
// into the convolution before it, and a final `scale` into the affine layer before it, so the Worker,
// the widget and the ONNX export run plain convolutions with biases. Exact up to float rounding:
//   conv -> [maxpool ->] batchnorm  ==  conv' -> [maxpool]   with, per output channel f,
//   w'[f] = w[f] * s[f],  b'[f] = (b[f] - mean[f]) * s[f] + beta[f],  s = 1/sqrt(var + eps) > 0.
// A max pool in between commutes with the per-channel map because s > 0 (the map is increasing).

import type { Kernels } from "./kernels/kernels.ts";
import { Network } from "./network.ts";
import { hasBatchnorm, resolveSpec, type ArchSpec, type LayerSpec } from "./spec.ts";

export type NamedTensors = Map<string, Float32Array>;

export class FoldError extends Error {
  override name = "FoldError";
}

/** The folded spec and tensors (names as the folded spec's network expects). Inputs are not changed. */
export function foldBatchnorm(spec: ArchSpec, tensors: NamedTensors): { spec: ArchSpec; tensors: NamedTensors } {
  const resolved = resolveSpec(spec);
  const out = new Map(tensors);
  const layers: LayerSpec[] = [];
  let lastConv = -1; // index in `layers` of the conv a batchnorm would fold into
  const newName = new Map<number, string>(); // resolved index -> name in the folded spec (convs keep theirs)
  resolved.forEach((l, i) => {
    const spec = spec_of(l);
    if (l.type === "batchnorm") {
      if (lastConv < 0) throw new FoldError(`layer ${l.name}: batchnorm must follow a conv (with only max pools between) to be folded`);
      const conv = layers[lastConv] as Extract<LayerSpec, { type: "conv" }>;
      const convName = newName.get(lastConv)!;
      const w = out.get(`${convName}.weight`)!, F = conv.filters, per = w.length / F;
      const oldBias = out.get(`${convName}.bias`);
      const mean = tensors.get(`${l.name}.mean`)!, variance = tensors.get(`${l.name}.var`)!, beta = tensors.get(`${l.name}.bias`)!;
      const eps = l.eps ?? 1e-5;
      const w2 = new Float32Array(w.length), b2 = new Float32Array(F);
      for (let f = 0; f < F; f++) {
        const s = 1 / Math.sqrt(variance[f] + eps);
        for (let k = 0; k < per; k++) w2[f * per + k] = w[f * per + k] * s;
        b2[f] = ((oldBias ? oldBias[f] : 0) - mean[f]) * s + beta[f];
      }
      out.set(`${convName}.weight`, w2);
      out.set(`${convName}.bias`, b2);
      for (const k of ["bias", "mean", "var"]) out.delete(`${l.name}.${k}`);
      layers[lastConv] = { ...conv, bias: true };
      lastConv = -1; // a second batchnorm needs a conv of its own
      return;
    }
    if (l.type === "scale" && layers.length > 0 && layers[layers.length - 1].type === "affine") {
      const name = newName.get(layers.length - 1)!;
      for (const k of ["weight", "bias"]) {
        const t = out.get(`${name}.${k}`);
        if (t) out.set(`${name}.${k}`, t.map((v) => v * l.factor));
      }
      return;
    }
    if (l.type === "conv") lastConv = layers.length;
    else if (l.type !== "pool") lastConv = -1;
    newName.set(layers.length, l.name);
    layers.push(spec);
  });
  return { spec: { ...spec, layers }, tensors: out };
}

/** The plain LayerSpec of a resolved layer (without name and shapes). */
function spec_of(l: ReturnType<typeof resolveSpec>[number]): LayerSpec {
  const { name: _n, inShape: _i, outShape: _o, ...rest } = l;
  return rest as LayerSpec;
}

/** The inference form of a trained network (itself when it has no batchnorm), on `kernels`. */
export function inferenceNetwork(net: Network, options: { kernels?: Kernels; seed?: number } = {}): Network {
  if (!hasBatchnorm(net.spec)) return net;
  const folded = foldBatchnorm(net.spec, new Map(net.params.map((p) => [p.name, p.data])));
  const out = new Network(folded.spec, options);
  for (const p of out.params) p.data.set(folded.tensors.get(p.name)!);
  return out;
}
