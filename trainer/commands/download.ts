// `edge-cnn download cifar10 --dir data/`: the official archive, resumable and md5-checked. The
// trainer reads the archive directly (`--data data/`), so nothing needs unpacking.

import { join } from "node:path";
import { CIFAR10_ARCHIVE, CIFAR10_MD5, CIFAR10_URL } from "../dataset/cifar10.ts";
import { downloadFile } from "../dataset/download.ts";
import { formatHelp, parseCommand, UsageError, type CommandSpec } from "../cli/args.ts";
import { Progress } from "../cli/progress.ts";

export const downloadCommand: CommandSpec = {
  name: "download",
  summary: "download a dataset: cifar10 (the official binary archive, 163 MB)",
  usage: "edge-cnn download cifar10 [--dir data/]",
  flags: {
    dir: { type: "string", arg: "DIR", default: "data", help: "folder to download into" },
    url: { type: "string", arg: "URL", default: CIFAR10_URL, help: "where to download from (a mirror)" },
  },
  details: "An interrupted download resumes when you run the same command again.",
};

export async function runDownload(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals, help } = parseCommand(downloadCommand, argv);
  if (help) { out(formatHelp(downloadCommand)); return 0; }
  if (positionals.length !== 1 || positionals[0] !== "cifar10") {
    throw new UsageError(`edge-cnn download: say which dataset: "cifar10"${positionals.length ? ` (got "${positionals.join(" ")}")` : ""}`);
  }
  const dest = join(values.dir as string, CIFAR10_ARCHIVE);
  const progress = new Progress(process.stderr, 5);
  const started = Date.now();
  const result = await downloadFile(values.url as string, dest, {
    md5: CIFAR10_MD5,
    onProgress: (bytes, total) => {
      const mb = (n: number) => (n / 1e6).toFixed(1);
      const rate = bytes / Math.max(1, (Date.now() - started) / 1000);
      progress.update(total ? `downloading ${mb(bytes)}/${mb(total)} MB (${((100 * bytes) / total).toFixed(0)}%, ${mb(rate)} MB/s)` : `downloading ${mb(bytes)} MB`);
    },
  });
  progress.endLine();
  out(result.alreadyPresent ? `${dest} is already here and its md5 checks out` : `downloaded ${dest} (${(result.bytes / 1e6).toFixed(1)} MB${result.resumed ? ", resumed" : ""}), md5 verified`);
  out(`train with: npx edge-cnn train --data ${values.dir} --out models/cifar10.bin`);
  return 0;
}
