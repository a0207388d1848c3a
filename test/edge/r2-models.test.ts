// Models published to R2, in workerd with the real (local) R2 binding from wrangler.toml: served by
// name, swapped on the next request without a new app (no redeploy), and a bad object never served:
// a JSON error naming it, or the previous good version while there is one.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../edge/app.ts";
import type { Bindings } from "../../edge/config.ts";
import { modelObjectKey, pointerKey, withPublished, withRolledBack, type ModelPointer } from "../../shared/model-store.ts";
import { JPEG, errorOf, tinyModelBytes } from "./helpers.ts";

const bucket = (env as unknown as { MODELS: R2Bucket }).MODELS;
const bindings = env as unknown as Bindings;

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What `edge-cnn publish` does: the file under its versioned key, then the pointer. */
async function publish(name: string, bytes: Uint8Array, before: ModelPointer | null, storeAs?: Uint8Array): Promise<ModelPointer> {
  const sha256 = await sha256Hex(bytes);
  await bucket.put(modelObjectKey(name, sha256), storeAs ?? bytes);
  const pointer = withPublished(before, name, {
    sha256, version: "1", size: bytes.length, published_at: new Date().toISOString(),
    labels: ["a", "b", "c"], input: { channels: 3, height: 16, width: 16 }, metrics: {},
  });
  await bucket.put(pointerKey(name), JSON.stringify(pointer));
  return pointer;
}

const v1 = tinyModelBytes({ name: "v1", version: "1.0.0" });
const v2 = tinyModelBytes({ name: "v2", version: "2.0.0", labels: ["x", "y", "z"] });
const bundled = tinyModelBytes({ name: "bundled" });

async function classifyWith(app: ReturnType<typeof createApp>, name: string) {
  const res = await app.request(`/v1/models/${name}/classify`, { method: "POST", body: JPEG }, bindings);
  return { res, body: res.status === 200 ? (await res.json()) as { model: { name: string; sha256: string } } : null };
}

describe("models in R2", () => {
  it("are served by name, and a newly published version on the very next request (same app, no redeploy)", async () => {
    const app = createApp({ models: [{ name: "bundled", bytes: bundled }] });
    const p1 = await publish("swap", v1, null);
    const first = await classifyWith(app, "swap");
    expect(first.res.status).toBe(200);
    expect(first.body!.model).toMatchObject({ name: "v1", sha256: await sha256Hex(v1) });

    const p2 = await publish("swap", v2, p1);
    expect((await classifyWith(app, "swap")).body!.model).toMatchObject({ name: "v2", sha256: await sha256Hex(v2) });
    const info = await (await app.request("/v1/models/swap", {}, bindings)).json() as { labels: string[]; file: string };
    expect(info.labels).toEqual(["x", "y", "z"]);
    const file = await app.request(info.file, {}, bindings);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(v2);

    await bucket.put(pointerKey("swap"), JSON.stringify(withRolledBack(p2))); // edge-cnn rollback
    expect((await classifyWith(app, "swap")).body!.model.name).toBe("v1");
  });

  it("are listed by GET /v1/models beside the bundled ones, from their pointers", async () => {
    const app = createApp({ models: [{ name: "bundled", bytes: bundled }] });
    await publish("listed", v1, null);
    const body = await (await app.request("/v1/models", {}, bindings)).json() as { models: Array<{ name: string; source: string; sha256: string }> };
    expect(body.models[0]).toMatchObject({ name: "bundled", source: "bundle" });
    expect(body.models.find((m) => m.name === "listed")).toMatchObject({ source: "r2", sha256: await sha256Hex(v1) });
    const missing = await app.request("/v1/models/nope", {}, bindings);
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).message).toMatch(/There is no model "nope"\. This Worker serves "bundled", .*"listed"/);
  });

  it("a published name wins over the bundled one; removing the pointer serves the bundled model again", async () => {
    const app = createApp({ models: [{ name: "pets", bytes: bundled }] });
    expect((await classifyWith(app, "pets")).body!.model.name).toBe("bundled");
    await publish("pets", v2, null);
    expect((await classifyWith(app, "pets")).body!.model.name).toBe("v2");
    await bucket.delete(pointerKey("pets")); // rollback of the first publish
    expect((await classifyWith(app, "pets")).body!.model.name).toBe("bundled");
  });

  it("a half-written or overwritten object (bytes not matching its sha256) is never served: the previous version keeps serving, with a warning", async () => {
    const app = createApp({ models: [{ name: "bundled", bytes: bundled }] });
    const p1 = await publish("halfway", v1, null);
    expect((await classifyWith(app, "halfway")).body!.model.name).toBe("v1");
    await publish("halfway", v2, p1, v2.subarray(0, 1000)); // the upload was cut off
    const { res, body } = await classifyWith(app, "halfway");
    expect(res.status).toBe(200);
    expect(body!.model.name).toBe("v1");
    const key = modelObjectKey("halfway", await sha256Hex(v2));
    expect(res.headers.get("edge-cnn-warning")).toContain(`the model object ${key} in R2 cannot be used: its 1000 bytes have sha256`);
    const list = await (await app.request("/v1/models", {}, bindings)).json() as { models: Array<{ name: string; error?: string }> };
    expect(list.models.find((m) => m.name === "halfway")?.error).toContain(key);
  });

  it("a bad object with no earlier good version is a JSON 500 naming the object", async () => {
    const app = createApp({ models: [{ name: "bundled", bytes: bundled }] });
    const notAModel = new TextEncoder().encode("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 643984\n");
    await publish("corrupt", notAModel, null);
    const { res } = await classifyWith(app, "corrupt");
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("model_invalid");
    expect(error.message).toContain(`Model "corrupt" cannot be served: the model object ${modelObjectKey("corrupt", await sha256Hex(notAModel))} in R2 cannot be used:`);
    expect(error.message).toMatch(/git lfs pull/);
    expect(error.message).toMatch(/npx edge-cnn rollback corrupt$/);

    await bucket.put(pointerKey("garbled"), "{not json");
    const garbled = await classifyWith(app, "garbled");
    expect(garbled.res.status).toBe(500);
    expect((await errorOf(garbled.res)).message).toContain("the pointer pointers/garbled.json is not valid JSON");
    // The bundled model is unaffected by broken R2 entries.
    expect((await classifyWith(app, "bundled")).res.status).toBe(200);
  });

  it("a pointer to an object that does not exist is a 500 naming it", async () => {
    const app = createApp({ models: [{ name: "bundled", bytes: bundled }] });
    const sha256 = await sha256Hex(v1);
    await bucket.put(pointerKey("ghost"), JSON.stringify(withPublished(null, "ghost", {
      sha256, version: "1", size: 1, published_at: "", labels: [], input: { channels: 3, height: 16, width: 16 }, metrics: {},
    })));
    const { res } = await classifyWith(app, "ghost");
    expect(res.status).toBe(500);
    expect((await errorOf(res)).message).toContain(`the model object ${modelObjectKey("ghost", sha256)} in R2 cannot be used: it does not exist`);
  });
});

describe("a repaired object", () => {
  it("is served once its pointer is rewritten (publish of the same file again)", async () => {
    const app = createApp({ models: [{ name: "bundled", bytes: bundled }] });
    const pointer = await publish("repair", v1, null, v1.subarray(0, 10));
    expect((await classifyWith(app, "repair")).res.status).toBe(500);
    await bucket.put(modelObjectKey("repair", await sha256Hex(v1)), v1);
    expect((await classifyWith(app, "repair")).res.status).toBe(500); // same pointer: still known bad, not re-downloaded
    await bucket.put(pointerKey("repair"), JSON.stringify({ ...pointer, updated_at: "later" })); // what publish writes: a new ETag
    expect((await classifyWith(app, "repair")).body!.model.name).toBe("v1");
  });
});
