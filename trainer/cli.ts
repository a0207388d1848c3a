// `edge-cnn <command>`: the trainer's command line. Each command lives in trainer/commands/; this file
// only dispatches and turns known errors into one clear line (and an exit code) instead of a stack.

import { UsageError } from "./cli/args.ts";

const COMMANDS: Record<string, { summary: string; load: () => Promise<(argv: string[], out: (s: string) => void) => Promise<number>> }> = {
  train: { summary: "train a model on CIFAR-10 or a folder of photos", load: async () => (await import("./commands/train.ts")).runTrain },
  evaluate: { summary: "accuracy, per-class metrics and confusion matrix of a model on a dataset", load: async () => (await import("./commands/evaluate.ts")).runEvaluate },
  predict: { summary: "classify image files", load: async () => (await import("./commands/predict.ts")).runPredict },
  crossval: { summary: "mean +- std accuracy over repeated random splits of a small folder", load: async () => (await import("./commands/crossval.ts")).runCrossval },
  export: { summary: "write a model as ONNX or in another dtype", load: async () => (await import("./commands/export.ts")).runExport },
  info: { summary: "show a model file's header", load: async () => (await import("./commands/info.ts")).runInfo },
  download: { summary: "download a dataset (cifar10)", load: async () => (await import("./commands/download.ts")).runDownload },
  serve: { summary: "run the Worker locally with your model files (wrangler dev --local)", load: async () => (await import("./commands/serve.ts")).runServe },
  deploy: { summary: "deploy the Worker with your model files (wrangler deploy; --dry-run offline)", load: async () => (await import("./commands/deploy.ts")).runDeploy },
  publish: { summary: "put a model in the R2 bucket and make it live, no redeploy", load: async () => (await import("./commands/publish.ts")).runPublish },
  rollback: { summary: "make a published model's previous version live again", load: async () => (await import("./commands/rollback.ts")).runRollback },
  models: { summary: "list published models, their versions and which is live", load: async () => (await import("./commands/models.ts")).runModels },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  return [
    "edge-cnn: train a small CNN on your own photos and serve it from the edge",
    "",
    "Usage: edge-cnn <command> [options]     (edge-cnn <command> --help for its options)",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    "",
  ].join("\n");
}

/** Known failures (bad input, bad files, divergence) print one line; anything else is a bug and keeps its stack. */
const EXPECTED_ERRORS = new Set(["UsageError", "DatasetError", "DecodeError", "ModelFileError", "ModelFormatError", "CheckpointError", "DivergenceError", "SpecError", "DownloadError", "PreprocessError", "OutputError", "WranglerError", "PointerError", "FineTuneError"]);

const FS_REASONS: Record<string, string> = {
  EISDIR: "it is a folder", ENOTDIR: "a file is in the way", EEXIST: "a file is in the way", ENOENT: "no such file or folder",
  EACCES: "permission denied", EROFS: "read-only file system", ENOSPC: "the disk is full", EDQUOT: "disk quota exceeded",
};

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + "\n")): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") { out(usage()); return name ? 0 : 2; }
  if (name === "--version") { out("edge-cnn 0.1.0"); return 0; }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`edge-cnn: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest, out);
  } catch (e) {
    const err = e as Error;
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\nRun \`edge-cnn ${name} --help\` for the options.\n`);
      return 2;
    }
    if (EXPECTED_ERRORS.has(err.name)) {
      process.stderr.write(`edge-cnn ${name}: ${err.message}\n`);
      return 1;
    }
    // A file-system failure (disk full, a folder where a file should go, no permission): one line, not a stack.
    const fsError = err as NodeJS.ErrnoException & { dest?: string };
    if (fsError.code && fsError.syscall) {
      process.stderr.write(`edge-cnn ${name}: cannot ${fsError.syscall} ${fsError.path ?? ""}${fsError.dest ? ` -> ${fsError.dest}` : ""}: ${FS_REASONS[fsError.code] ?? fsError.code}\n`);
      return 1;
    }
    throw err;
  }
}
