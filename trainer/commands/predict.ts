// `edge-cnn predict`: classify image files with exactly the pipeline the Worker uses (sharp decode ->
// shared preprocess -> shared forward). A bad file is reported and the others are still classified.

import { rankPredictions, type Prediction } from "../../shared/predict.ts";
import { resizeToModel } from "../../shared/preprocess.ts";
import { formatHelp, parseCommand, requireFlag, UsageError, type CommandSpec } from "../cli/args.ts";
import { decodeImageFile } from "../dataset/decode.ts";
import { readModelFile } from "../model-io.ts";
import { defaultViews, forwardViews, VIEW_SETS, type ViewSet } from "../../shared/views.ts";

export const predictCommand: CommandSpec = {
  name: "predict",
  summary: "classify image files (JPEG, PNG, WebP, GIF, TIFF, AVIF)",
  usage: "edge-cnn predict --model models/NAME.bin [--top K] [--json] IMAGE...",
  flags: {
    model: { type: "string", arg: "FILE", help: "model file" },
    top: { type: "int", min: 1, default: 3, help: "labels to show per image" },
    tta: { type: "string", choices: VIEW_SETS, help: "test-time views whose logits are averaged (none, flip, flip-translate); default: the model's own, as the Worker uses" },
    json: { type: "boolean", help: "print JSON for scripts" },
  },
};

export interface FilePrediction {
  file: string;
  predictions?: Prediction[];
  error?: string;
}

export async function predictFiles(modelPath: string, files: string[], top: number, tta?: ViewSet): Promise<FilePrediction[]> {
  const { net, meta } = readModelFile(modelPath);
  const views = tta ?? defaultViews(meta.preprocess);
  const results: FilePrediction[] = [];
  for (const file of files) {
    try {
      const rgb = resizeToModel(await decodeImageFile(file, { inputSize: meta.preprocess.size }), meta.preprocess);
      const logits = forwardViews(net, 1, () => rgb, meta.preprocess, views);
      results.push({ file, predictions: rankPredictions(logits, meta.labels, top) });
    } catch (e) {
      const err = e as Error & { reason?: string };
      results.push({ file, error: err.reason ?? err.message });
    }
  }
  return results;
}

export async function runPredict(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals, help } = parseCommand(predictCommand, argv);
  if (help) { out(formatHelp(predictCommand)); return 0; }
  const modelPath = requireFlag(predictCommand, values, "model");
  if (positionals.length === 0) throw new UsageError("edge-cnn predict: give one or more image files after the options");
  const results = await predictFiles(modelPath, positionals, values.top as number, values.tta as ViewSet | undefined);
  if (values.json) {
    out(JSON.stringify(results, null, 2));
  } else {
    for (const r of results) {
      if (r.error) { process.stderr.write(`${r.file}: error: ${r.error}\n`); continue; }
      out(`${r.file}: ${r.predictions!.map((p) => `${p.label} ${(100 * p.score).toFixed(1)}%`).join(", ")}`);
    }
  }
  const failed = results.filter((r) => r.error).length;
  if (failed) process.stderr.write(`${failed} of ${results.length} file${results.length === 1 ? "" : "s"} could not be classified\n`);
  return failed === results.length ? 1 : 0;
}
