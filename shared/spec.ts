// The architecture spec: plain data (JSON-safe) that describes a network. It is stored in the model
// file, so a model carries everything needed to rebuild it. `resolveSpec` checks that every layer's
// shapes fit and names the layer that does not.

/** Per-example activation shape, channels x height x width (NCHW without the N). */
export type Shape = readonly [c: number, h: number, w: number];

export type LayerSpec =
  | {
    type: "conv"; filters: number; size: number; stride?: number; pad?: number;
    /** false: no bias (a batchnorm follows; folding it in gives the conv a bias again). Default true. */
    bias?: boolean;
    /** Weight initialisation: "he" (default), "uniform" (PyTorch's default, +-1/sqrt(fan_in)), "dirac"
     *  (uniform with the first c_in filters the identity), or "whiten": fixed weights computed from the
     *  training images, never trained. */
    init?: ConvInit;
  }
  | { type: "relu" }
  | { type: "gelu" }
  | { type: "pool"; size: number; stride?: number }
  | { type: "globalpool"; mode: "max" | "avg" }
  | { type: "batchnorm"; eps?: number }
  | { type: "scale"; factor: number }
  | { type: "dropout"; ratio: number }
  | { type: "affine"; units: number; bias?: boolean; init?: "he" | "uniform" };

export type ConvInit = "he" | "uniform" | "dirac" | "whiten";
export const CONV_INITS: readonly ConvInit[] = ["he", "uniform", "dirac", "whiten"];

export const LAYER_TYPES = ["conv", "relu", "gelu", "pool", "globalpool", "batchnorm", "scale", "dropout", "affine"] as const;

export interface ArchSpec {
  /** Architecture name, e.g. "seed-cnn". */
  name: string;
  /** Input shape [channels, height, width]. */
  input: Shape;
  /** Layers in order. The last one must be an affine layer with one unit per class;
   *  softmax + cross-entropy follow it implicitly. */
  layers: LayerSpec[];
}

/** A layer spec with its resolved name and shapes. */
export type ResolvedLayer = LayerSpec & { name: string; inShape: Shape; outShape: Shape };

export class SpecError extends Error {
  override name = "SpecError";
}

/** The original design's network, for any number of classes (633,002 parameters for 10). */
export function seedCnn(classes: number, dropout = 0.5): ArchSpec {
  const conv = (filters: number): LayerSpec => ({ type: "conv", filters, size: 3, stride: 1, pad: 1 });
  const relu: LayerSpec = { type: "relu" };
  const pool: LayerSpec = { type: "pool", size: 2, stride: 2 };
  const drop: LayerSpec = { type: "dropout", ratio: dropout };
  return {
    name: "seed-cnn",
    input: [3, 32, 32],
    layers: [
      conv(16), relu, pool,
      conv(32), relu, pool,
      conv(64), relu, drop, pool,
      conv(128), relu, drop, pool,
      { type: "affine", units: 1024 }, relu, drop,
      { type: "affine", units: classes },
    ],
  };
}

/**
 * airbench93's network (KellerJordan/cifar10-airbench, lib_airbench93.py): a fixed 2x2 patch-whitening
 * conv (3 -> 24, no padding), GELU, three groups of conv3x3 -> maxpool2 -> batchnorm -> GELU ->
 * conv3x3 -> batchnorm -> GELU (widths 64/128/128), a global max pool, a bias-free linear layer and
 * logits x 1/9. 0.57 M parameters and 54 M multiply-adds per 32x32 image. The conv body does not care
 * about the input size (the global pool makes it size-agnostic), so `size` may be larger than 32.
 */
export function airbench(classes: number, size = 32, widths: readonly [number, number, number] = [64, 128, 128]): ArchSpec {
  const conv = (filters: number): LayerSpec => ({ type: "conv", filters, size: 3, stride: 1, pad: 1, bias: false, init: "dirac" });
  const bn: LayerSpec = { type: "batchnorm", eps: 1e-12 };
  const gelu: LayerSpec = { type: "gelu" };
  const group = (w: number): LayerSpec[] => [conv(w), { type: "pool", size: 2, stride: 2 }, bn, gelu, conv(w), bn, gelu];
  return {
    name: "airbench",
    input: [3, size, size],
    layers: [
      { type: "conv", filters: 24, size: 2, stride: 1, pad: 0, init: "whiten" }, gelu,
      ...group(widths[0]), ...group(widths[1]), ...group(widths[2]),
      { type: "globalpool", mode: "max" },
      { type: "affine", units: classes, bias: false, init: "uniform" },
      { type: "scale", factor: 1 / 9 },
    ],
  };
}

export const ARCHITECTURES: Record<string, (classes: number, size?: number) => ArchSpec> = {
  "seed-cnn": (classes) => seedCnn(classes),
  airbench: (classes, size) => airbench(classes, size),
  // The same net at half the widths: about a third of the multiply-adds, for quick tries (`--recipe fast`).
  "airbench-small": (classes, size) => ({ ...airbench(classes, size, [32, 64, 64]), name: "airbench-small" }),
};

/** One line per architecture, for `train --help` and `info`. */
export const ARCHITECTURE_NOTES: Record<string, string> = {
  "seed-cnn": "the original design's net: 4 conv+relu+pool, 2 affine, dropout (0.63 M params, 4.5 M MACs at 32x32)",
  airbench: "airbench93's net: whitening conv, 3 conv groups with batchnorm+GELU (64/128/128), global max pool (0.57 M params, 54 M MACs at 32x32)",
  "airbench-small": "airbench at half the widths (32/64/64): 0.15 M params, 17 M MACs at 32x32",
};

/** Forward multiply-adds per example (convolutions and affine layers; elementwise work not counted). */
export function specMacs(spec: ArchSpec): number {
  let macs = 0;
  for (const l of resolveSpec(spec)) {
    if (l.type === "conv") macs += l.inShape[0] * l.size * l.size * shapeSize(l.outShape);
    else if (l.type === "affine") macs += shapeSize(l.inShape) * l.units;
  }
  return macs;
}

function positiveInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 1;
}

/** Number of classes a spec produces (units of its last affine layer). */
export function specClasses(spec: ArchSpec): number {
  const layers = resolveSpec(spec);
  return layers[layers.length - 1].outShape[0];
}

/** True if the spec has batchnorm layers (fold them for inference: foldBatchnorm). */
export function hasBatchnorm(spec: ArchSpec): boolean {
  return spec.layers.some((l) => l.type === "batchnorm");
}

/**
 * Names every layer ("conv1", "relu1", "pool1", ..., "affine2") and computes its shapes.
 * Throws SpecError naming the first layer whose parameters or shapes do not fit.
 */
export function resolveSpec(spec: ArchSpec): ResolvedLayer[] {
  if (!spec || typeof spec !== "object") throw new SpecError("architecture spec must be an object");
  if (!Array.isArray(spec.input) || spec.input.length !== 3 || !spec.input.every(positiveInt)) {
    throw new SpecError(`input shape must be [channels, height, width] of positive integers, got ${JSON.stringify(spec.input)}`);
  }
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new SpecError("architecture has no layers");
  const counts: Record<string, number> = {};
  let shape: Shape = [spec.input[0], spec.input[1], spec.input[2]];
  const out: ResolvedLayer[] = [];
  for (const layer of spec.layers) {
    const type = (layer as { type?: unknown })?.type;
    if (typeof type !== "string" || !(LAYER_TYPES as readonly string[]).includes(type)) {
      throw new SpecError(`layer ${out.length + 1} has unknown type ${JSON.stringify(type)} (expected one of ${LAYER_TYPES.join(", ")})`);
    }
    counts[type] = (counts[type] ?? 0) + 1;
    const name = `${type}${counts[type]}`;
    const fail = (why: string): never => {
      throw new SpecError(`layer ${name}: ${why} (input ${shape.join("x")})`);
    };
    const [c, h, w] = shape;
    let next: Shape;
    switch (layer.type) {
      case "conv": {
        const stride = layer.stride ?? 1, pad = layer.pad ?? 0;
        if (!positiveInt(layer.filters)) fail(`filters must be a positive integer, got ${layer.filters}`);
        if (!positiveInt(layer.size)) fail(`size must be a positive integer, got ${layer.size}`);
        if (!positiveInt(stride)) fail(`stride must be a positive integer, got ${stride}`);
        if (!Number.isInteger(pad) || pad < 0) fail(`pad must be a non-negative integer, got ${pad}`);
        const oh = Math.floor((h + 2 * pad - layer.size) / stride) + 1;
        const ow = Math.floor((w + 2 * pad - layer.size) / stride) + 1;
        if (oh < 1 || ow < 1) fail(`a ${layer.size}x${layer.size} kernel with pad ${pad} does not fit`);
        if (layer.bias !== undefined && typeof layer.bias !== "boolean") fail(`bias must be true or false, got ${JSON.stringify(layer.bias)}`);
        if (layer.init !== undefined && !CONV_INITS.includes(layer.init)) fail(`init must be one of ${CONV_INITS.join(", ")}, got ${JSON.stringify(layer.init)}`);
        next = [layer.filters, oh, ow];
        break;
      }
      case "pool": {
        const stride = layer.stride ?? layer.size;
        if (!positiveInt(layer.size)) fail(`size must be a positive integer, got ${layer.size}`);
        if (!positiveInt(stride)) fail(`stride must be a positive integer, got ${stride}`);
        if (layer.size > h || layer.size > w) fail(`a ${layer.size}x${layer.size} pool would shrink the image below 1x1`);
        next = [c, Math.floor((h - layer.size) / stride) + 1, Math.floor((w - layer.size) / stride) + 1];
        break;
      }
      case "globalpool":
        if (layer.mode !== "max" && layer.mode !== "avg") fail(`mode must be max or avg, got ${JSON.stringify(layer.mode)}`);
        next = [c, 1, 1];
        break;
      case "batchnorm":
        if (layer.eps !== undefined && !(typeof layer.eps === "number" && layer.eps > 0 && layer.eps < 1)) fail(`eps must be in (0, 1), got ${layer.eps}`);
        next = shape;
        break;
      case "scale":
        if (typeof layer.factor !== "number" || !Number.isFinite(layer.factor) || layer.factor === 0) fail(`factor must be a finite non-zero number, got ${layer.factor}`);
        next = shape;
        break;
      case "dropout":
        if (typeof layer.ratio !== "number" || !(layer.ratio >= 0 && layer.ratio < 1)) fail(`ratio must be in [0, 1), got ${layer.ratio}`);
        next = shape;
        break;
      case "affine":
        if (!positiveInt(layer.units)) fail(`units must be a positive integer, got ${layer.units}`);
        if (layer.bias !== undefined && typeof layer.bias !== "boolean") fail(`bias must be true or false, got ${JSON.stringify(layer.bias)}`);
        next = [layer.units, 1, 1];
        break;
      default:
        next = shape;
    }
    out.push({ ...layer, name, inShape: shape, outShape: next } as ResolvedLayer);
    shape = next;
  }
  // The classifier: the last affine layer, optionally followed by a scale (airbench's logits x 1/9).
  let last = out[out.length - 1];
  if (last.type === "scale" && out.length > 1) last = out[out.length - 2];
  if (last.type !== "affine") throw new SpecError(`the last layer must be affine (one unit per class), optionally followed by scale, got ${last.name}`);
  if (last.outShape[0] < 2) throw new SpecError(`layer ${last.name}: a classifier needs at least 2 classes, got ${last.outShape[0]}`);
  return out;
}

export const shapeSize = (s: Shape): number => s[0] * s[1] * s[2];
