// `edge-cnn predict`: classify image files with exactly the pipeline the Worker uses (sharp decode ->
// shared preprocess -> shared forward). A bad file is reported and the others are still classified.

import { softmax } from "../../shared/loss.ts";
import { rankPredictions, type Prediction } from "../../shared/predict.ts";
import { pixelsToTensor, resizeToModel } from "../../shared/preprocess.ts";
import { formatHelp, parseCommand, requireFlag, UsageError, type CommandSpec } from "../cli/args.ts";
import { decodeImageFile } from "../dataset/decode.ts";
import { readModelFile } from "../model-io.ts";
import { shiftFlip } from "../training/batches.ts";

export const predictCommand: CommandSpec = {
  name: "predict",
  summary: "classify image files (JPEG, PNG, WebP, GIF, TIFF, AVIF)",
  usage: "edge-cnn predict --model models/NAME.bin [--top K] [--json] IMAGE...",
  flags: {
    model: { type: "string", arg: "FILE", help: "model file" },
    top: { type: "int", min: 1, default: 3, help: "labels to show per image" },
    tta: { type: "string", choices: ["none", "flip"], default: "none", help: "average with the mirror image (doubles CPU)" },
    json: { type: "boolean", help: "print JSON for scripts" },
  },
};

export interface FilePrediction {
  file: string;
  predictions?: Prediction[];
  error?: string;
}

export async function predictFiles(modelPath: string, files: string[], top: number, tta: "none" | "flip" = "none"): Promise<FilePrediction[]> {
  const { net, meta } = readModelFile(modelPath);
  const results: FilePrediction[] = [];
  for (const file of files) {
    try {
      const rgb = resizeToModel(await decodeImageFile(file, { inputSize: meta.preprocess.size }), meta.preprocess);
      let logits = net.forward(pixelsToTensor(rgb, meta.preprocess), 1).slice();
      if (tta === "flip") {
        const mirrored = new Uint8Array(rgb.length);
        shiftFlip(rgb, mirrored, meta.preprocess.size[0], meta.preprocess.size[1], 0, 0, true);
        const a = new Float32Array(logits.length), b = new Float32Array(logits.length);
        softmax(logits, a, 1, logits.length);
        softmax(net.forward(pixelsToTensor(mirrored, meta.preprocess), 1), b, 1, logits.length);
        // Average the probabilities; rank via their logs (softmax(log p) = p).
        logits = a.map((p, i) => Math.log((p + b[i]) / 2));
      }
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
  const results = await predictFiles(modelPath, positionals, values.top as number, values.tta as "none" | "flip");
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
