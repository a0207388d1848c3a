// The architecture spec: plain data (JSON-safe) that describes a network. It is stored in the model
// file, so a model carries everything needed to rebuild it. `resolveSpec` checks that every layer's
// shapes fit and names the layer that does not.

/** Per-example activation shape, channels x height x width (NCHW without the N). */
export type Shape = readonly [c: number, h: number, w: number];

export type LayerSpec =
  | { type: "conv"; filters: number; size: number; stride?: number; pad?: number }
  | { type: "relu" }
  | { type: "pool"; size: number; stride?: number }
  | { type: "dropout"; ratio: number }
  | { type: "affine"; units: number };

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

export const ARCHITECTURES: Record<string, (classes: number) => ArchSpec> = { "seed-cnn": seedCnn };

function positiveInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 1;
}

/** Number of classes a spec produces (units of its last affine layer). */
export function specClasses(spec: ArchSpec): number {
  const layers = resolveSpec(spec);
  return layers[layers.length - 1].outShape[0];
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
    if (typeof type !== "string" || !["conv", "relu", "pool", "dropout", "affine"].includes(type)) {
      throw new SpecError(`layer ${out.length + 1} has unknown type ${JSON.stringify(type)} (expected conv, relu, pool, dropout or affine)`);
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
      case "dropout":
        if (typeof layer.ratio !== "number" || !(layer.ratio >= 0 && layer.ratio < 1)) fail(`ratio must be in [0, 1), got ${layer.ratio}`);
        next = shape;
        break;
      case "affine":
        if (!positiveInt(layer.units)) fail(`units must be a positive integer, got ${layer.units}`);
        next = [layer.units, 1, 1];
        break;
      default:
        next = shape;
    }
    out.push({ ...layer, name, inShape: shape, outShape: next } as ResolvedLayer);
    shape = next;
  }
  const last = out[out.length - 1];
  if (last.type !== "affine") throw new SpecError(`the last layer must be affine (one unit per class), got ${last.name}`);
  if (last.outShape[0] < 2) throw new SpecError(`layer ${last.name}: a classifier needs at least 2 classes, got ${last.outShape[0]}`);
  return out;
}

export const shapeSize = (s: Shape): number => s[0] * s[1] * s[2];
