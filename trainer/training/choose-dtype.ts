// `--dtype auto` (the default): the smallest weight type whose validation accuracy stays within half a
// point of f32's. Each candidate is measured as users will run it: the file encoded in that type,
// loaded back (dequantized, batchnorm folded) and classified with the model's own test-time views.

import { encodeModel, loadNetwork, type ModelDtype, type ModelMeta } from "../../shared/model-file.ts";
import type { Network } from "../../shared/network.ts";
import { defaultViews } from "../../shared/views.ts";
import { loadBestKernels } from "../kernels-node.ts";
import type { Dataset } from "../dataset/dataset.ts";
import type { Choice } from "./auto-recipe.ts";
import { evaluateDataset } from "./evaluate.ts";

/** How far below f32 (as a fraction) a smaller type may land and still be chosen. */
export const DTYPE_TOLERANCE = 0.005;

export interface DtypeChoice {
  dtype: ModelDtype;
  /** Validation accuracy of every type measured (f32 always). */
  accuracy: Partial<Record<ModelDtype, number>>;
  choice: Choice;
}

/** Smallest first: int8, then f16, else f32. Without validation data nothing can be checked: f32. */
export function chooseDtype(net: Network, meta: ModelMeta, val: Dataset | null): DtypeChoice {
  if (!val || val.count === 0) {
    return { dtype: "f32", accuracy: {}, choice: { setting: "dtype", value: "f32", why: "no validation images to check a smaller weight type against" } };
  }
  const accuracyOf = (dtype: ModelDtype): number => {
    const saved = loadNetwork(encodeModel(net, meta, dtype), { kernels: loadBestKernels() }).net;
    return evaluateDataset(saved, val, meta.preprocess, 100, defaultViews(meta.preprocess)).accuracy;
  };
  const accuracy: Partial<Record<ModelDtype, number>> = { f32: accuracyOf("f32") };
  const pct = (a: number): string => `${(100 * a).toFixed(2)} %`;
  for (const dtype of ["int8", "f16"] as const) {
    accuracy[dtype] = accuracyOf(dtype);
    if (accuracy[dtype]! >= accuracy.f32! - DTYPE_TOLERANCE) {
      return { dtype, accuracy, choice: { setting: "dtype", value: dtype, why: `validation ${pct(accuracy[dtype]!)} vs f32 ${pct(accuracy.f32!)}: within ${100 * DTYPE_TOLERANCE} points, the smallest such type` } };
    }
  }
  return { dtype: "f32", accuracy, choice: { setting: "dtype", value: "f32", why: `int8 (${pct(accuracy.int8!)}) and f16 (${pct(accuracy.f16!)}) both lose more than ${100 * DTYPE_TOLERANCE} points against f32 (${pct(accuracy.f32!)})` } };
}
