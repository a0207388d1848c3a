// `edge-cnn serve --model F [--model G | --model DIR] [--default NAME] [--port N]`: the Worker in
// local workerd (wrangler dev --local: no account, no network) around those model files, plus whatever
// is published to the local R2 bucket. Nothing in the repository changes: the entry module and config
// are generated in .wrangler/edge-cnn/ and removed when the server stops.

import { parseCommand, formatHelp, type CommandSpec } from "../cli/args.ts";
import { collectModels, prepareWorker, SHIPPED_MODEL } from "../worker/prepare.ts";
import { DEFAULT_STATE, startWrangler, stopWrangler } from "../worker/wrangler.ts";

export const SERVE: CommandSpec = {
  name: "serve",
  summary: "run the Worker locally (wrangler dev --local) with your model files",
  usage: "edge-cnn serve --model models/NAME.bin [--model ...] [--default NAME] [--port 8787]",
  flags: {
    model: { type: "string", multiple: true, arg: "FILE|DIR", help: `a model file, or a folder of .bin files; repeat for several (default: ${SHIPPED_MODEL}). The name is the file name without .bin` },
    default: { type: "string", arg: "NAME", help: "the model behind /v1/classify, /v1/model and /v1/model.bin (default: the first)" },
    port: { type: "int", min: 1, max: 65535, default: 8787, help: "port on 127.0.0.1" },
    state: { type: "string", arg: "DIR", help: "local state folder (local R2 bucket) shared with publish --local", default: ".wrangler/state" },
  },
  details: "Example:\n  npx edge-cnn serve --model models/pets.bin\n  curl --data-binary @cat.jpg localhost:8787/v1/models/pets/classify",
};

export async function runServe(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(SERVE, argv);
  if (help) { out(formatHelp(SERVE)); return 0; }
  const models = collectModels((values.model as string[] | undefined) ?? []);
  const worker = prepareWorker(models, { defaultName: values.default as string | undefined, purpose: "serve" });
  const port = values.port as number;
  const state = values.state === SERVE.flags.state.default ? DEFAULT_STATE : String(values.state);
  out(`serving ${models.map((m) => `${m.name}${m.name === worker.defaultName ? " (default)" : ""}`).join(", ")} on http://127.0.0.1:${port}`);
  out(`  POST /v1/models/NAME/classify, GET /v1/models; local R2 state in ${state}`);

  const child = startWrangler(["dev", "-c", worker.config, "--local", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--show-interactive-dev-session=false"]);
  const stop = (signal: NodeJS.Signals) => stopWrangler(child, signal);
  const onSigint = () => stop("SIGINT"), onSigterm = () => stop("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  try {
    return await new Promise<number>((resolve) => {
      child.on("error", (e) => { process.stderr.write(`edge-cnn serve: cannot run wrangler: ${e.message}\n`); resolve(1); });
      child.on("exit", (code, signal) => resolve(signal ? 0 : code ?? 1));
    });
  } finally {
    stop("SIGTERM"); // its workerd children, should wrangler have exited without them
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    worker.cleanup();
  }
}
