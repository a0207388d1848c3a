// Fine-tuning (`train --from BASE.bin`): a new network with the base model's architecture and a fresh
// classifier head for the new classes, whose body (every layer before the classifier) starts from the
// base's tensors. The base is read unfolded (loadNetwork fold:false) so its batchnorm layers train on.
// The body can be frozen (--freeze-body) or train at a fraction of the learning rate (--body-lr): its
// params go in the optimiser group "body" (bodyGroups), whose multiplier composes with airbench's.

import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { resolveSpec, type ArchSpec } from "../../shared/spec.ts";
import { readModelFile } from "../model-io.ts";

export class FineTuneError extends Error {
  override name = "FineTuneError";
}

export interface BaseModel {
  file: string;
  name: string;
  sha256: string;
  spec: ArchSpec;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/**
 * The base an image folder fine-tunes from when `--recipe auto` is given no --from (or --arch): the
 * shipped CIFAR-10 model, beside this package's trainer. Measured on Dogs vs Cats (validation, the same
 * split): 92.6 % fine-tuned vs 85.9 % from scratch with every photo, 84.0 % vs 65.2 % with 50 per class.
 */
export const DEFAULT_BASE = fileURLToPath(new URL("../../models/cifar10.bin", import.meta.url));
export const DEFAULT_BASE_WHY = "image folder: fine-tuning the shipped CIFAR-10 model matched or beat training from scratch on every folder measured (docs/training.md); --from none trains from scratch";

export function readBaseModel(file: string): BaseModel {
  const base = readModelFile(file, { fold: false });
  return {
    file, name: base.meta.name, spec: base.spec,
    sha256: createHash("sha256").update(base.bytes).digest("hex"),
    tensors: new Map(base.tensors.map((t) => [t.name, { shape: t.shape, data: t.data }])),
  };
}

/** Index of the classifier: the last affine layer (a scale may follow it). */
function headIndex(spec: ArchSpec): number {
  for (let i = spec.layers.length - 1; i >= 0; i--) if (spec.layers[i].type === "affine") return i;
  throw new FineTuneError(`architecture ${spec.name} has no affine classifier`);
}

/**
 * The base's architecture at `size` x `size` with a `classes`-way head. `arch`: the architecture the
 * user asked for with --arch, which must be the base's.
 */
export function fineTuneSpec(base: BaseModel, classes: number, size: number, arch?: string): ArchSpec {
  if (arch !== undefined && arch !== base.spec.name) {
    throw new FineTuneError(`${base.file} has the ${base.spec.name} architecture, so --arch ${arch} cannot start from its weights: drop --arch (--from trains the base's architecture) or pick a base model trained with --arch ${arch}`);
  }
  const layers = base.spec.layers.map((l) => ({ ...l }));
  const h = headIndex(base.spec);
  layers[h] = { ...layers[h], units: classes } as typeof layers[number];
  return { name: base.spec.name, input: [base.spec.input[0], size, size], layers };
}

/** Names of the params of the body (every layer before the classifier). */
function bodyParamNames(spec: ArchSpec): Set<string> {
  const h = headIndex(spec);
  const names = new Set<string>();
  resolveSpec(spec).forEach((l, i) => {
    if (i >= h) return;
    for (const suffix of ["weight", "bias", "mean", "var"]) names.add(`${l.name}.${suffix}`);
  });
  return names;
}

/**
 * Copies the base's body tensors into `weights` (the new network's params, `params` their names and
 * shapes). Every body tensor must exist in the base with the same shape; else a FineTuneError says
 * which and what to do. Returns the number of tensors copied.
 */
export function copyBody(base: BaseModel, spec: ArchSpec, params: { name: string; shape: number[] }[], weights: Float32Array[]): number {
  const body = bodyParamNames(spec);
  const baseSize = `${base.spec.input[1]}x${base.spec.input[2]}`, size = `${spec.input[1]}x${spec.input[2]}`;
  let copied = 0;
  params.forEach((p, i) => {
    if (!body.has(p.name)) return;
    const t = base.tensors.get(p.name);
    if (!t) throw new FineTuneError(`${base.file} has no tensor ${p.name}; its architecture (${base.spec.name}) differs from the one being trained`);
    if (t.shape.join("x") !== p.shape.join("x")) {
      throw new FineTuneError(`${base.file}: body tensor ${p.name} is ${t.shape.join("x")} in the base (trained at ${baseSize}), ${p.shape.join("x")} here at ${size}: ` +
        `the ${base.spec.name} body does not fit this input size; use --input-size ${base.spec.input[1]}${base.spec.name === "seed-cnn" ? " (seed-cnn's affine layers fix its input size; airbench bodies fit any size)" : ""}`);
    }
    weights[i].set(t.data);
    copied++;
  });
  return copied;
}

/** Optimiser groups of a fine-tuned network: the body's params in "body" (composed with their own group). */
export function bodyGroups(spec: ArchSpec, params: { name: string; group?: string }[]): Record<string, string> {
  const body = bodyParamNames(spec);
  const groups: Record<string, string> = {};
  for (const p of params) if (body.has(p.name)) groups[p.name] = p.group ? `body.${p.group}` : "body";
  return groups;
}
