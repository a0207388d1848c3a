// `edge-cnn rollback NAME [--local]`: moves NAME's pointer back to the version that was live before
// the current one. Rolling back the first publish removes the pointer, so the Worker serves its
// bundled model of that name again (if it has one). The files stay in the bucket, so publishing the
// newer file again rolls forward.

import { parseCommand, formatHelp, UsageError, type CommandSpec } from "../cli/args.ts";
import { pointerKey, withRolledBack } from "../../shared/model-store.ts";
import { STORE_FLAGS, storeOf } from "../worker/r2-store.ts";

export const ROLLBACK: CommandSpec = {
  name: "rollback",
  summary: "make the previously live version of a published model live again",
  usage: "edge-cnn rollback NAME [--local]",
  flags: { ...STORE_FLAGS },
};

export async function runRollback(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals, help } = parseCommand(ROLLBACK, argv);
  if (help) { out(formatHelp(ROLLBACK)); return 0; }
  if (positionals.length !== 1) throw new UsageError("edge-cnn rollback: name one published model, e.g. edge-cnn rollback pets");
  const name = positionals[0];
  const store = storeOf(ROLLBACK, values);
  const pointer = await store.pointer(name);
  if (!pointer) {
    const names = await store.names();
    throw new UsageError(`edge-cnn rollback: no model "${name}" is published in the ${store.where}${names.length ? ` (published: ${names.join(", ")})` : ""}`);
  }
  const back = withRolledBack(pointer);
  if (!back) {
    await store.delete(pointerKey(name));
    await store.removeName(name);
    out(`${name}: unpublished ${pointer.live.slice(0, 12)} (it was the first version) from the ${store.where}; a Worker with a bundled ${name} serves that again`);
    return 0;
  }
  await store.putPointer(back);
  const v = back.versions.find((x) => x.sha256 === back.live)!;
  out(`${name}: ${v.version} (${back.live.slice(0, 12)}) is live again in the ${store.where}, replacing ${pointer.live.slice(0, 12)}`);
  return 0;
}
