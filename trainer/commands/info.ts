// `edge-cnn info --model M`: the model file's header, readable or as JSON.

import { formatHelp, parseCommand, requireFlag, type CommandSpec } from "../cli/args.ts";
import { bestKernelsName } from "../kernels-node.ts";
import { readModelFile } from "../model-io.ts";

export const infoCommand: CommandSpec = {
  name: "info",
  summary: "show a model file's architecture, labels, dtype, size, metrics and provenance",
  usage: "edge-cnn info --model models/NAME.bin [--json]",
  flags: {
    model: { type: "string", arg: "FILE", help: "model file (.bin)" },
    json: { type: "boolean", help: "print JSON for scripts" },
  },
};

export function modelInfo(path: string) {
  const m = readModelFile(path);
  return {
    file: path,
    name: m.meta.name,
    version: m.meta.version,
    preview: m.meta.preview ?? false,
    architecture: m.spec.name,
    input: m.spec.input,
    labels: m.meta.labels,
    dtype: m.dtype,
    parameters: m.net.parameterCount,
    bytes: m.byteLength,
    preprocess: m.meta.preprocess,
    metrics: m.meta.metrics,
    provenance: m.meta.provenance,
    layers: m.net.layers.map((l) => ({ name: l.name, output: l.outShape })),
    /** The kernels this machine runs the model with (not a property of the file). */
    kernels: bestKernelsName(),
  };
}

export async function runInfo(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(infoCommand, argv);
  if (help) { out(formatHelp(infoCommand)); return 0; }
  const info = modelInfo(requireFlag(infoCommand, values, "model"));
  if (values.json) { out(JSON.stringify(info, null, 2)); return 0; }
  const lines = [
    `${info.name} ${info.version}${info.preview ? "  (PREVIEW: briefly trained, not for real use)" : ""}`,
    `  file          ${info.file} (${(info.bytes / 1024).toFixed(1)} KiB, ${info.dtype})`,
    `  architecture  ${info.architecture}, input ${info.input.join("x")}, ${info.parameters.toLocaleString("en-US")} parameters`,
    `  labels        ${info.labels.join(", ")}`,
    `  preprocess    ${info.preprocess.crop} crop, ${info.preprocess.resize} resize to ${info.preprocess.size.join("x")}, alpha over rgb(${info.preprocess.background.join(",")})`,
    `  kernels       ${info.kernels} on this machine`,
    `  layers        ${info.layers.map((l) => `${l.name} ${l.output.join("x")}`).join(" > ")}`,
    ...Object.entries(info.metrics).map(([k, v], i) => `  ${i === 0 ? "metrics      " : "             "} ${k}: ${typeof v === "number" ? +v.toFixed(4) : JSON.stringify(v)}`),
    ...Object.entries(info.provenance).map(([k, v], i) => `  ${i === 0 ? "provenance   " : "             "} ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`),
  ];
  out(lines.join("\n"));
  return 0;
}
