// `edge-cnn models [--local] [--json]`: the models published to the R2 bucket, every version of each,
// and which one is live.

import { parseCommand, formatHelp, type CommandSpec } from "../cli/args.ts";
import { STORE_FLAGS, storeOf } from "../worker/r2-store.ts";

export const MODELS: CommandSpec = {
  name: "models",
  summary: "list published models, their versions and which is live",
  usage: "edge-cnn models [--local] [--json]",
  flags: { ...STORE_FLAGS, json: { type: "boolean", help: "print JSON" } },
};

export async function runModels(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, help } = parseCommand(MODELS, argv);
  if (help) { out(formatHelp(MODELS)); return 0; }
  const store = storeOf(MODELS, values);
  const pointers = [];
  for (const name of await store.names()) {
    const p = await store.pointer(name);
    if (p) pointers.push(p);
  }
  if (values.json) {
    out(JSON.stringify(pointers.map((p) => ({ name: p.name, live: p.live, versions: p.versions.map((v) => ({ ...v, live: v.sha256 === p.live })) })), null, 2));
    return 0;
  }
  if (pointers.length === 0) { out(`no models published in the ${store.where} (npx edge-cnn publish --model F${values.local ? " --local" : ""})`); return 0; }
  out(`models in the ${store.where}:`);
  for (const p of pointers) {
    out(p.name);
    for (const v of p.versions) {
      out(`  ${v.sha256 === p.live ? "*" : " "} ${v.version.padEnd(8)} ${v.sha256.slice(0, 12)}  ${(v.size / 1024).toFixed(0).padStart(5)} KiB  ${v.published_at}${v.sha256 === p.live ? "  (live)" : ""}`);
    }
  }
  return 0;
}
