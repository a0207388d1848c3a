// `edge-cnn export`: a model file as ONNX (for onnxruntime and other tools), or re-encoded in
// another dtype (f32, f16, int8).

import { encodeModel, MODEL_DTYPES, type ModelDtype } from "../../shared/model-file.ts";
import { writeFileAtomic } from "../atomic-write.ts";
import { formatHelp, parseCommand, requireFlag, UsageError, type CommandSpec } from "../cli/args.ts";
import { readModelFile } from "../model-io.ts";
import { exportOnnx } from "../onnx-export.ts";
import { loadNetwork, type LoadedNetwork } from "../../shared/model-file.ts";
import { defaultViews, VIEW_SETS, type ViewSet } from "../../shared/views.ts";
import { loadBestKernels } from "../kernels-node.ts";
import { Progress } from "../cli/progress.ts";
import { evaluateDataset } from "../training/evaluate.ts";
import { resolveData } from "./data-source.ts";
import { evaluationSet } from "./evaluate.ts";

export const exportCommand: CommandSpec = {
  name: "export",
  summary: "write a model as ONNX, or as a model file in another dtype",
  usage: "edge-cnn export --model models/NAME.bin --out NAME.onnx | --out NAME-int8.bin --dtype int8",
  flags: {
    model: { type: "string", arg: "FILE", help: "model file to export" },
    out: { type: "string", arg: "FILE", help: "output: .onnx for ONNX (opset 13), .bin for a model file" },
    dtype: { type: "string", choices: MODEL_DTYPES, help: "weight type for a .bin output" },
    views: { type: "string", choices: VIEW_SETS, help: "test-time views the .bin output asks classifiers to average (none, flip, flip-translate)" },
    data: { type: "string", arg: "PATH", help: "the data the model was trained on: measure the output's validation and test accuracy (and the source's, for comparison) and store them in its metrics" },
    json: { type: "boolean", help: "print JSON for scripts" },
  },
  details: "ONNX graph: input \"input\" float [N,3,H,W] (pixels as the model's preprocess makes them), outputs \"probabilities\" and \"logits\".",
};

export async function runExport(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(exportCommand, argv);
  if (help) { out(formatHelp(exportCommand)); return 0; }
  const modelPath = requireFlag(exportCommand, values, "model");
  const outPath = requireFlag(exportCommand, values, "out");
  const model = readModelFile(modelPath, { fold: false }); // the file's own form: batchnorm state kept
  let bytes: Uint8Array, format: string;
  if (outPath.endsWith(".onnx")) {
    if (values.dtype) throw new UsageError("edge-cnn export: --dtype applies to .bin outputs; ONNX is always written as float32");
    bytes = exportOnnx(model.net, { labels: model.meta.labels, name: model.meta.name });
    format = "onnx";
  } else if (outPath.endsWith(".bin")) {
    const dtype = (values.dtype as ModelDtype | undefined) ?? model.dtype;
    const views = (values.views as ViewSet | undefined) ?? defaultViews(model.meta.preprocess);
    const changed = dtype !== model.dtype || views !== defaultViews(model.meta.preprocess);
    // The metrics were measured on the source weights and views; say so, since both can move them.
    let meta = !changed ? model.meta : {
      ...model.meta,
      preprocess: { ...model.meta.preprocess, views },
      provenance: { ...model.meta.provenance, converted_from: `${model.dtype}, views ${defaultViews(model.meta.preprocess)}`, metrics_measured_on: model.meta.provenance.metrics_measured_on ?? model.dtype },
    };
    bytes = encodeModel(model.net, meta, dtype);
    if (values.data) {
      meta = { ...meta, metrics: await remeasure(model, modelPath, bytes, values.data as string), provenance: { ...meta.provenance, metrics_measured_on: `${dtype}, views ${views}` } };
      bytes = encodeModel(model.net, meta, dtype);
    }
    format = `model file (${dtype}, views ${views})`;
  } else {
    throw new UsageError(`edge-cnn export: --out must end in .onnx or .bin, got "${outPath}"`);
  }
  writeFileAtomic(outPath, bytes);
  out(values.json ? JSON.stringify({ out: outPath, format, bytes: bytes.length }) : `wrote ${outPath}: ${format}, ${(bytes.length / 1024).toFixed(1)} KiB`);
  return 0;
}

/**
 * The source model's metrics with val_* and test_* replaced by the output's (its weights, its views),
 * and the source's own figures beside them as *_source, so a conversion's cost is on record.
 */
async function remeasure(source: LoadedNetwork, sourcePath: string, output: Uint8Array, dataPath: string): Promise<Record<string, number>> {
  const progress = new Progress(process.stderr);
  const ref = await resolveData(dataPath, "folder");
  const out = loadNetwork(output, { kernels: loadBestKernels() });
  const metrics: Record<string, number> = { ...(source.meta.metrics as Record<string, number>) };
  const round = (v: number): number => Math.round(v * 1e5) / 1e5;
  for (const which of ["val", "test"] as const) {
    let set;
    try { set = await evaluationSet(source, sourcePath, ref, dataPath, which, progress); } catch { continue; } // no such split recorded
    if (which === "test" && set.what !== "test") continue; // not a real hold-out
    progress.update(`measuring ${which} accuracy on ${set.ds.count} images ...`, true);
    const mine = evaluateDataset(out.net, set.ds, out.meta.preprocess, 100, defaultViews(out.meta.preprocess));
    const theirs = evaluateDataset(source.net, set.ds, source.meta.preprocess, 100, defaultViews(source.meta.preprocess));
    Object.assign(metrics, {
      [`${which}_accuracy`]: round(mine.accuracy), [`${which}_loss`]: round(mine.loss), [`${which}_count`]: mine.count,
      [`${which}_accuracy_source`]: round(theirs.accuracy),
    });
    progress.log(`${which}: ${(100 * mine.accuracy).toFixed(2)}% (source model: ${(100 * theirs.accuracy).toFixed(2)}%) on ${mine.count} images`);
  }
  return metrics;
}
