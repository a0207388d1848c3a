// `edge-cnn publish --model F [--name N] [--local]`: stores the model in the MODELS R2 bucket under
// its versioned key (models/NAME/SHA256.bin) and then moves the name's pointer to it, so a running
// Worker serves it on its next request, with no redeploy. The file is fully checked first, and the
// pointer moves only after the upload succeeded.

import { parseCommand, formatHelp, requireFlag, type CommandSpec } from "../cli/args.ts";
import { withPublished, type PublishedVersion } from "../../shared/model-store.ts";
import { readModelFile } from "../worker/prepare.ts";
import { STORE_FLAGS, storeOf } from "../worker/r2-store.ts";

export const PUBLISH: CommandSpec = {
  name: "publish",
  summary: "put a model in the R2 bucket and make it live (no redeploy)",
  usage: "edge-cnn publish --model models/NAME.bin [--name NAME] [--local]",
  flags: {
    model: { type: "string", arg: "FILE", help: "the model file to publish" },
    name: { type: "string", arg: "NAME", help: "the name it is served under, /v1/models/NAME (default: the file name without .bin)" },
    ...STORE_FLAGS,
  },
  details: "Then: npx edge-cnn models [--local] lists what is live; npx edge-cnn rollback NAME goes back.",
};

export async function runPublish(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(PUBLISH, argv);
  if (help) { out(formatHelp(PUBLISH)); return 0; }
  const file = requireFlag(PUBLISH, values, "model");
  const model = readModelFile(file, values.name as string | undefined);
  const store = storeOf(PUBLISH, values);
  const before = await store.pointer(model.name);
  const [channels, height, width] = model.input;
  const version: PublishedVersion = {
    sha256: model.sha256, version: model.meta.version, size: model.bytes.length, published_at: new Date().toISOString(),
    labels: model.meta.labels, input: { channels, height, width }, metrics: model.meta.metrics,
  };
  const key = await store.putModel(model.name, model.sha256, model.bytes); // first the file ...
  // ... then the pointer: never a pointer to a missing file. Rewritten even when this version is
  // already live, so Workers look again at an object this upload may have repaired.
  await store.putPointer(withPublished(before, model.name, version));
  await store.addName(model.name);
  out(`published ${model.name} ${model.meta.version} (${model.sha256.slice(0, 12)}, ${(model.bytes.length / 1024).toFixed(0)} KiB) to ${key} in the ${store.where}`);
  if (before?.live === model.sha256) out("it was already live (re-uploaded)");
  else out(before ? `live now, replacing ${before.live.slice(0, 12)} (undo: npx edge-cnn rollback ${model.name}${values.local ? " --local" : ""})` : "live now");
  return 0;
}
