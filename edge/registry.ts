// Which models this Worker serves, by name, and getting one ready to run. Two sources:
// - bundled: model files built into the Worker (edge-cnn serve/deploy --model ...), fixed per deploy;
// - R2 (the optional MODELS bucket binding): a pointer per name names the live version (shared/
//   model-store.ts); publish/rollback move it and the next request here serves the new version.
// A published R2 name wins over a bundled one of the same name.
//
// Per isolate, decoded models live in a ByteLru (bounded by bytes). An R2 pointer is re-checked on
// every request, cheaply: a conditional GET on its ETag, no body unless it changed. A version that
// cannot be used (missing, wrong sha256, not a valid model file) is remembered as bad; while the
// name's previous good version is known, that one keeps serving and the problem travels as a warning.

import { modelObjectKey, modelObjectPrefix, parsePointer, pointerKey, POINTER_PREFIX, PointerError, type ModelPointer } from "../shared/model-store.ts";
import { ModelFormatError } from "../shared/index.ts";
import { ApiError } from "./errors.ts";
import { ByteLru } from "./lru.ts";
import { decodeServedModel, servedModelBytes, type ServedModel } from "./model.ts";

export interface BundledModel {
  name: string;
  bytes: ArrayBuffer | Uint8Array;
}

export interface Resolved {
  model: ServedModel;
  source: "bundle" | "r2";
  /** Set when the live R2 version is unusable and an earlier good version is served instead. */
  warning?: string;
}

/** One entry of GET /v1/models: from the decoded model (bundled) or from the pointer (R2, no download). */
export interface ModelSummary {
  name: string;
  source: "bundle" | "r2";
  version: string;
  sha256: string;
  labels: string[];
  input: { channels: number; height: number; width: number };
  metrics: Record<string, unknown>;
  error?: string;
}

export class ModelRegistry {
  readonly cache: ByteLru<ServedModel>;
  private bundled: Map<string, BundledModel>;
  private bundledErrors = new Map<string, Error>(); // a bundled file never changes: its error is final
  private pointers = new Map<string, { etag: string; pointer: ModelPointer }>();
  private bad = new Map<string, string>(); // R2 object key -> why it cannot be used
  private lastGood = new Map<string, string>(); // name -> sha256 of the last R2 version that loaded
  private loading = new Map<string, Promise<ServedModel>>(); // concurrent requests share one decode

  constructor(bundled: BundledModel[], readonly defaultName: string, cacheBytes: number) {
    this.bundled = new Map(bundled.map((b) => [b.name, b]));
    this.cache = new ByteLru(cacheBytes);
  }

  get bundledNames(): string[] {
    return [...this.bundled.keys()];
  }

  /** The model called `name`; a JSON 404 naming the models that exist when there is none. */
  async get(name: string, bucket: R2Bucket | undefined): Promise<Resolved> {
    if (bucket) {
      const fromR2 = await this.getFromR2(name, bucket);
      if (fromR2) return fromR2;
    }
    const b = this.bundled.get(name);
    if (b) return { model: await this.getBundled(b), source: "bundle" };
    const names = await this.names(bucket);
    throw new ApiError(404, "model_not_found",
      `There is no model ${JSON.stringify(name)}. This Worker serves ${names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "no models"}` +
      ` (GET /v1/models lists them).`);
  }

  /** Every name served: bundled ones, then R2 ones not also bundled. */
  async names(bucket: R2Bucket | undefined): Promise<string[]> {
    const r2 = bucket ? await this.r2Names(bucket) : [];
    return [...new Set([...this.bundled.keys(), ...r2])];
  }

  async list(bucket: R2Bucket | undefined): Promise<ModelSummary[]> {
    const out: ModelSummary[] = [];
    const r2 = bucket ? await this.r2Names(bucket) : [];
    for (const name of [...new Set([...this.bundled.keys(), ...r2])]) {
      if (r2.includes(name)) {
        try {
          const pointer = await this.pointer(name, bucket!);
          const v = pointer && pointer.versions.find((x) => x.sha256 === pointer.live);
          if (!v) continue; // deleted since the listing
          const bad = this.bad.get(modelObjectKey(name, v.sha256));
          out.push({ name, source: "r2", version: v.version, sha256: v.sha256, labels: v.labels, input: v.input, metrics: v.metrics, ...(bad ? { error: bad } : {}) });
        } catch (e) {
          out.push({ name, source: "r2", version: "", sha256: "", labels: [], input: { channels: 0, height: 0, width: 0 }, metrics: {}, error: (e as Error).message });
        }
        continue;
      }
      try {
        const m = await this.getBundled(this.bundled.get(name)!);
        const [channels, height, width] = m.spec.input;
        out.push({ name, source: "bundle", version: m.meta.version, sha256: m.sha256, labels: m.meta.labels, input: { channels, height, width }, metrics: m.meta.metrics });
      } catch (e) {
        out.push({ name, source: "bundle", version: "", sha256: "", labels: [], input: { channels: 0, height: 0, width: 0 }, metrics: {}, error: (e as Error).message });
      }
    }
    return out;
  }

  private async getBundled(b: BundledModel): Promise<ServedModel> {
    const failed = this.bundledErrors.get(b.name);
    if (failed) throw failed;
    try {
      return await this.decodeCached(`bundle:${b.name}`, async () => b.bytes);
    } catch (e) {
      if (!(e instanceof ModelFormatError)) throw e;
      const err = new ApiError(500, "model_invalid", `The model file bundled with this Worker cannot be used: ${e.message} (model ${JSON.stringify(b.name)})`);
      this.bundledErrors.set(b.name, err);
      throw err;
    }
  }

  private decodeCached(key: string, read: () => Promise<ArrayBuffer | Uint8Array>): Promise<ServedModel> {
    const hit = this.cache.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.loading.get(key);
    if (!p) {
      p = read().then(decodeServedModel).then((m) => { this.cache.set(key, m, servedModelBytes(m)); return m; });
      p.finally(() => this.loading.delete(key)).catch(() => {});
      this.loading.set(key, p);
    }
    return p;
  }

  private async r2Names(bucket: R2Bucket): Promise<string[]> {
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix: POINTER_PREFIX, cursor });
      for (const o of page.objects) if (o.key.endsWith(".json")) names.push(o.key.slice(POINTER_PREFIX.length, -".json".length));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    return names;
  }

  /** The name's pointer (null when not published), re-read only when its ETag changed. */
  private async pointer(name: string, bucket: R2Bucket): Promise<ModelPointer | null> {
    const known = this.pointers.get(name);
    const obj = await bucket.get(pointerKey(name), known ? { onlyIf: { etagDoesNotMatch: known.etag } } : {});
    if (obj === null) { this.pointers.delete(name); return null; }
    if (!("body" in obj)) return known!.pointer; // unchanged: R2 sent no body
    const pointer = parsePointer(await obj.text(), name);
    this.pointers.set(name, { etag: obj.etag, pointer });
    // A rewritten pointer may follow a re-upload that repaired a bad object: look at its objects again.
    for (const key of this.bad.keys()) if (key.startsWith(modelObjectPrefix(name))) this.bad.delete(key);
    return pointer;
  }

  private async getFromR2(name: string, bucket: R2Bucket): Promise<Resolved | null> {
    let pointer: ModelPointer | null;
    try {
      pointer = await this.pointer(name, bucket);
    } catch (e) {
      if (!(e instanceof PointerError)) throw e;
      return this.fallBack(name, bucket, e.message);
    }
    if (!pointer) return null;
    const key = modelObjectKey(name, pointer.live);
    const bad = this.bad.get(key);
    if (bad) return this.fallBack(name, bucket, bad);
    try {
      const model = await this.loadVersion(name, pointer.live, bucket);
      this.lastGood.set(name, pointer.live);
      return { model, source: "r2" };
    } catch (e) {
      if (!(e instanceof ModelFormatError || e instanceof UnusableObject)) throw e; // R2 down: a 500, nothing remembered
      const why = `the model object ${key} in R2 cannot be used: ${e.message}`;
      this.bad.set(key, why);
      console.error(why);
      return this.fallBack(name, bucket, why);
    }
  }

  /** The previous good version of `name` when there is one, else a 500 naming the problem. */
  private async fallBack(name: string, bucket: R2Bucket, why: string): Promise<Resolved> {
    const good = this.lastGood.get(name);
    if (good) {
      try {
        const model = await this.loadVersion(name, good, bucket);
        return { model, source: "r2", warning: `${why}; serving the previous version ${good.slice(0, 12)} instead` };
      } catch { /* gone too: report the original problem */ }
    }
    throw new ApiError(500, "model_invalid", `Model ${JSON.stringify(name)} cannot be served: ${why}. Publish a good file, or roll back: npx edge-cnn rollback ${name}`);
  }

  /** One version from R2: only bytes whose sha256 is the one in the key (so never a half-written file). */
  private loadVersion(name: string, sha256: string, bucket: R2Bucket): Promise<ServedModel> {
    const key = modelObjectKey(name, sha256);
    return this.decodeCached(`r2:${key}`, async () => {
      const obj = await bucket.get(key);
      if (!obj) throw new UnusableObject("it does not exist");
      const bytes = new Uint8Array(await obj.arrayBuffer());
      const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
      if (digest !== sha256) throw new UnusableObject(`its ${bytes.length} bytes have sha256 ${digest.slice(0, 12)}, not ${sha256.slice(0, 12)} (incomplete or overwritten upload)`);
      return bytes;
    });
  }
}

class UnusableObject extends Error {
  override name = "UnusableObject";
}
