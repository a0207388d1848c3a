// `edge-cnn info --model M`: the model file's header, readable or as JSON.

import { formatHelp, parseCommand, requireFlag, type CommandSpec } from "../cli/args.ts";
import { bestKernelsName } from "../kernels-node.ts";
import { readModelFile } from "../model-io.ts";
import { ARCHITECTURE_NOTES, ARCHITECTURES, specMacs } from "../../shared/spec.ts";
import { defaultViews } from "../../shared/views.ts";
import { RECIPES } from "../training/recipes.ts";

export const infoCommand: CommandSpec = {
  name: "info",
  summary: "show a model file's architecture, labels, dtype, size, metrics and provenance",
  usage: "edge-cnn info --model models/NAME.bin [--json]\n       edge-cnn info            (the architectures and recipes this edge-cnn trains)",
  flags: {
    model: { type: "string", arg: "FILE", help: "model file (.bin); without it, list the architectures and recipes" },
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
    /** Forward multiply-adds per image (convolutions and affine layers). */
    macs: specMacs(m.spec),
    views: defaultViews(m.meta.preprocess),
    labels: m.meta.labels,
    dtype: m.dtype,
    // Stored tensors, less batchnorm's running statistics (state, not parameters).
    parameters: m.tensors.filter((t) => !/\.(mean|var)$/.test(t.name)).reduce((n, t) => n + t.data.length, 0),
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
  if (!values.model) {
    const archs = Object.entries(ARCHITECTURE_NOTES).map(([name, note]) => ({ name, note, macs: specMacs(ARCHITECTURES[name](10)) }));
    const recipes = Object.entries(RECIPES).map(([name, r]) => ({ name, arch: r.arch, summary: r.summary }));
    if (values.json) { out(JSON.stringify({ architectures: archs, recipes, kernels: bestKernelsName() }, null, 2)); return 0; }
    out([
      "architectures (train --arch NAME):",
      ...archs.map((a) => `  ${a.name.padEnd(10)} ${a.note}`),
      "recipes (train --recipe NAME):",
      ...recipes.map((r) => `  ${r.name.padEnd(10)} ${r.summary}`),
      `kernels: ${bestKernelsName()} on this machine`,
      "A model file's own details: edge-cnn info --model FILE",
    ].join("\n"));
    return 0;
  }
  const info = modelInfo(values.model as string);
  if (values.json) { out(JSON.stringify(info, null, 2)); return 0; }
  const lines = [
    `${info.name} ${info.version}${info.preview ? "  (PREVIEW: briefly trained, not for real use)" : ""}`,
    `  file          ${info.file} (${(info.bytes / 1024).toFixed(1)} KiB, ${info.dtype})`,
    `  architecture  ${info.architecture}, input ${info.input.join("x")}, ${info.parameters.toLocaleString("en-US")} parameters, ${(info.macs / 1e6).toFixed(1)} M multiply-adds per image`,
    `  views         ${info.views} (test-time views every classifier averages)`,
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
