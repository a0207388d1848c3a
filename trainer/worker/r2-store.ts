// The model store (shared/model-store.ts) in an R2 bucket, through wrangler's own commands:
// `wrangler r2 object get/put` with --local (the state `wrangler dev` / `edge-cnn serve` use, offline)
// or --remote (the real bucket, needs `wrangler login`). wrangler has no object listing, so the CLI
// keeps a small index of names (names.json) beside the pointers; the Worker lists the pointers itself.

import { modelObjectKey, parsePointer, pointerKey, type ModelPointer } from "../../shared/model-store.ts";
import { UsageError, type CommandSpec, type FlagValues } from "../cli/args.ts";
import { modelsBucket } from "./prepare.ts";
import { DEFAULT_STATE, runWrangler, WranglerError, wranglerMessage } from "./wrangler.ts";

export const NAMES_KEY = "names.json";

export interface StoreTarget {
  remote: boolean;
  /** The local state folder (for --local). */
  state: string;
}

export class R2Store {
  readonly bucket = modelsBucket();
  constructor(readonly target: StoreTarget) {}

  get where(): string {
    return this.target.remote ? `R2 bucket ${this.bucket}` : `local R2 bucket ${this.bucket} (${this.target.state})`;
  }

  private flags(): string[] {
    return this.target.remote ? ["--remote"] : ["--local", "--persist-to", this.target.state];
  }

  /** An object's bytes, or null if there is no such key. */
  async get(key: string): Promise<Buffer | null> {
    const r = await runWrangler(["r2", "object", "get", `${this.bucket}/${key}`, "--pipe", ...this.flags()]);
    if (r.code === 0) return r.stdout;
    if (/specified key does not exist|NoSuchKey/i.test(r.stderr)) return null;
    throw new WranglerError(`cannot read ${key} from the ${this.where}: ${wranglerMessage(r.stderr)}`);
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    const r = await runWrangler(["r2", "object", "put", `${this.bucket}/${key}`, "--pipe", "--content-type", contentType, ...this.flags()], bytes);
    if (r.code !== 0) throw new WranglerError(`cannot write ${key} to the ${this.where}: ${wranglerMessage(r.stderr)}`);
  }

  async delete(key: string): Promise<void> {
    const r = await runWrangler(["r2", "object", "delete", `${this.bucket}/${key}`, ...this.flags()]);
    if (r.code !== 0) throw new WranglerError(`cannot delete ${key} in the ${this.where}: ${wranglerMessage(r.stderr)}`);
  }

  async pointer(name: string): Promise<ModelPointer | null> {
    const bytes = await this.get(pointerKey(name));
    return bytes ? parsePointer(bytes.toString("utf8"), name) : null;
  }

  async putPointer(pointer: ModelPointer): Promise<void> {
    await this.put(pointerKey(pointer.name), new TextEncoder().encode(JSON.stringify({ ...pointer, updated_at: new Date().toISOString() }, null, 1)), "application/json");
  }

  async putModel(name: string, sha256: string, bytes: Uint8Array): Promise<string> {
    const key = modelObjectKey(name, sha256);
    await this.put(key, bytes, "application/octet-stream");
    return key;
  }

  async names(): Promise<string[]> {
    const bytes = await this.get(NAMES_KEY);
    if (!bytes) return [];
    try {
      const names = JSON.parse(bytes.toString("utf8")) as unknown;
      if (Array.isArray(names) && names.every((n) => typeof n === "string")) return names;
    } catch { /* fall through */ }
    throw new WranglerError(`${NAMES_KEY} in the ${this.where} is not a JSON list of names; publish a model again to rewrite it`);
  }

  async removeName(name: string): Promise<void> {
    const names = await this.names();
    if (names.includes(name)) await this.put(NAMES_KEY, new TextEncoder().encode(JSON.stringify(names.filter((n) => n !== name))), "application/json");
  }

  async addName(name: string): Promise<void> {
    const names = await this.names();
    if (!names.includes(name)) await this.put(NAMES_KEY, new TextEncoder().encode(JSON.stringify([...names, name].sort())), "application/json");
  }
}

/** The flags publish, rollback and models share to pick the bucket. */
export const STORE_FLAGS = {
  local: { type: "boolean", help: "the local bucket that npm start / edge-cnn serve use (offline); default: the real bucket (needs wrangler login)" },
  remote: { type: "boolean", help: "the real R2 bucket (the default)" },
  state: { type: "string", arg: "DIR", help: "with --local: the local state folder", default: ".wrangler/state" },
} as const;

export function storeOf(cmd: CommandSpec, values: FlagValues): R2Store {
  if (values.local && values.remote) throw new UsageError(`edge-cnn ${cmd.name}: --local and --remote exclude each other`);
  return new R2Store({ remote: !values.local, state: values.state === STORE_FLAGS.state.default ? DEFAULT_STATE : String(values.state) });
}
