// `edge-cnn deploy --model F [--model ...] [--default NAME] [--dry-run] [--bundle-only]`: wrangler
// deploy of the Worker around those model files, from a generated entry and config (nothing in the
// repository changes). --dry-run builds the bundle offline and prints its size.

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCommand, formatHelp, type CommandSpec } from "../cli/args.ts";
import { collectModels, prepareWorker, SHIPPED_MODEL } from "../worker/prepare.ts";
import { runWrangler, WranglerError, wranglerMessage } from "../worker/wrangler.ts";

export const DEPLOY: CommandSpec = {
  name: "deploy",
  summary: "deploy the Worker with your model files (wrangler deploy)",
  usage: "edge-cnn deploy --model models/NAME.bin [--model ...] [--default NAME] [--dry-run]",
  flags: {
    model: { type: "string", multiple: true, arg: "FILE|DIR", help: `a model file, or a folder of .bin files; repeat for several (default: ${SHIPPED_MODEL})` },
    default: { type: "string", arg: "NAME", help: "the model behind /v1/classify, /v1/model and /v1/model.bin (default: the first)" },
    "dry-run": { type: "boolean", help: "build the bundle without deploying (offline) and print its size" },
    "bundle-only": { type: "boolean", help: "leave out the MODELS R2 binding (for an account without R2): only the bundled models are served" },
  },
  details: "Free plan limit: 3 MiB gzip per Worker, models included.",
};

const FREE_PLAN_KIB = 3 * 1024;

export async function runDeploy(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(DEPLOY, argv);
  if (help) { out(formatHelp(DEPLOY)); return 0; }
  const models = collectModels((values.model as string[] | undefined) ?? []);
  const worker = prepareWorker(models, { defaultName: values.default as string | undefined, withR2: !values["bundle-only"], purpose: "deploy" });
  const outdir = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-deploy-"));
  try {
    const args = ["deploy", "-c", worker.config, "--outdir", outdir, ...(values["dry-run"] ? ["--dry-run"] : [])];
    const { code, stdout, stderr } = await runWrangler(args);
    const text = stdout.toString();
    const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(text + stderr);
    const names = models.map((m) => `${m.name}${m.name === worker.defaultName ? " (default)" : ""}`).join(", ");
    if (code !== 0) throw new WranglerError(`wrangler deploy failed: ${wranglerMessage(stderr || text)}`);
    if (size) {
      const gzip = Number(size[2]);
      out(`bundle: ${size[1]} KiB, ${gzip} KiB gzip (${gzip <= FREE_PLAN_KIB ? "fits" : "over"} the Free plan's ${FREE_PLAN_KIB} KiB gzip limit) with models ${names}`);
    }
    if (values["dry-run"]) {
      out("dry run: nothing was deployed");
    } else {
      const url = /https:\/\/\S+\.workers\.dev/.exec(text)?.[0];
      out(`deployed ${names}${url ? ` to ${url}` : ""}`);
    }
    return 0;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    worker.cleanup();
  }
}
