// `edge-cnn export`: a model file as ONNX (for onnxruntime and other tools), or re-encoded in
// another dtype (f32, f16, int8).

import { encodeModel, MODEL_DTYPES, type ModelDtype } from "../../shared/model-file.ts";
import { writeFileAtomic } from "../atomic-write.ts";
import { formatHelp, parseCommand, requireFlag, UsageError, type CommandSpec } from "../cli/args.ts";
import { readModelFile } from "../model-io.ts";
import { exportOnnx } from "../onnx-export.ts";

export const exportCommand: CommandSpec = {
  name: "export",
  summary: "write a model as ONNX, or as a model file in another dtype",
  usage: "edge-cnn export --model models/NAME.bin --out NAME.onnx | --out NAME-int8.bin --dtype int8",
  flags: {
    model: { type: "string", arg: "FILE", help: "model file to export" },
    out: { type: "string", arg: "FILE", help: "output: .onnx for ONNX (opset 13), .bin for a model file" },
    dtype: { type: "string", choices: MODEL_DTYPES, help: "weight type for a .bin output" },
    json: { type: "boolean", help: "print JSON for scripts" },
  },
  details: "ONNX graph: input \"input\" float [N,3,H,W] (pixels as the model's preprocess makes them), outputs \"probabilities\" and \"logits\".",
};

export async function runExport(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(exportCommand, argv);
  if (help) { out(formatHelp(exportCommand)); return 0; }
  const modelPath = requireFlag(exportCommand, values, "model");
  const outPath = requireFlag(exportCommand, values, "out");
  const model = readModelFile(modelPath);
  let bytes: Uint8Array, format: string;
  if (outPath.endsWith(".onnx")) {
    if (values.dtype) throw new UsageError("edge-cnn export: --dtype applies to .bin outputs; ONNX is always written as float32");
    bytes = exportOnnx(model.net, { labels: model.meta.labels, name: model.meta.name });
    format = "onnx";
  } else if (outPath.endsWith(".bin")) {
    const dtype = (values.dtype as ModelDtype | undefined) ?? model.dtype;
    // The metrics were measured on the source weights; say so, since quantizing can move them.
    const meta = dtype === model.dtype ? model.meta
      : { ...model.meta, provenance: { ...model.meta.provenance, converted_from: model.dtype, metrics_measured_on: model.meta.provenance.metrics_measured_on ?? model.dtype } };
    bytes = encodeModel(model.net, meta, dtype);
    format = `model file (${dtype})`;
  } else {
    throw new UsageError(`edge-cnn export: --out must end in .onnx or .bin, got "${outPath}"`);
  }
  writeFileAtomic(outPath, bytes);
  out(values.json ? JSON.stringify({ out: outPath, format, bytes: bytes.length }) : `wrote ${outPath}: ${format}, ${(bytes.length / 1024).toFixed(1)} KiB`);
  return 0;
}
