// Several models in one Worker: the listing, the per-name routes, the default model behind the old
// routes, unknown names, and the byte-bounded model cache.

import { describe, expect, it } from "vitest";
import { createApp } from "../../edge/app.ts";
import { ByteLru } from "../../edge/lru.ts";
import { JPEG, errorOf, tinyModelBytes } from "./helpers.ts";

const pets = tinyModelBytes({ name: "pets", version: "2.0.0", labels: ["cat", "dog", "fish"] });
const signs = tinyModelBytes({ name: "signs", version: "0.1.0", labels: ["stop", "yield", "go"], metrics: { test_accuracy: 0.9 } });

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

const app = createApp({ models: [{ name: "pets", bytes: pets }, { name: "signs", bytes: signs }] });

describe("GET /v1/models", () => {
  it("lists every model with name, version, sha256, labels, input size and metrics, and says which is the default", async () => {
    const res = await app.request("/v1/models");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      default: "pets",
      models: [
        { name: "pets", source: "bundle", version: "2.0.0", sha256: await sha256Hex(pets), labels: ["cat", "dog", "fish"], input: { channels: 3, height: 16, width: 16 }, metrics: { val_accuracy: 0.5 }, url: "/v1/models/pets", default: true },
        { name: "signs", source: "bundle", version: "0.1.0", sha256: await sha256Hex(signs), labels: ["stop", "yield", "go"], input: { channels: 3, height: 16, width: 16 }, metrics: { test_accuracy: 0.9 }, url: "/v1/models/signs", default: false },
      ],
    });
  });
});

describe("/v1/models/NAME", () => {
  it("describes the named model, with the versioned URL of its own file", async () => {
    const res = await app.request("/v1/models/signs");
    expect(res.status).toBe(200);
    const body = await res.json() as { name: string; labels: string[]; file: string };
    expect(body.name).toBe("signs");
    expect(body.labels).toEqual(["stop", "yield", "go"]);
    expect(body.file).toBe(`/v1/models/signs/model.bin?v=${await sha256Hex(signs)}`);
    const file = await app.request(body.file);
    expect(file.status).toBe(200);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(signs);
    expect(file.headers.get("cache-control")).toContain("immutable");
  });

  it("classifies with the named model", async () => {
    for (const [name, labels] of [["pets", ["cat", "dog", "fish"]], ["signs", ["stop", "yield", "go"]]] as const) {
      const res = await app.request(`/v1/models/${name}/classify?top=3`, { method: "POST", body: JPEG });
      expect(res.status, name).toBe(200);
      const body = await res.json() as { model: { name: string; sha256: string }; predictions: Array<{ label: string }> };
      expect(body.model.name).toBe(name);
      expect(body.predictions.map((p) => p.label).sort()).toEqual([...labels].sort());
    }
  });

  it("an unknown name is a JSON 404 naming the models that exist, on every per-model route", async () => {
    for (const [path, init] of [["/v1/models/nope", {}], ["/v1/models/nope/model.bin", {}], ["/v1/models/nope/classify", { method: "POST", body: JPEG }], ["/v1/models/..%2Fx", {}]] as const) {
      const res = await app.request(path, init);
      expect(res.status, path).toBe(404);
      const error = await errorOf(res);
      expect(error.code).toBe("model_not_found");
      if (path.includes("nope")) expect(error.message).toBe('There is no model "nope". This Worker serves "pets", "signs" (GET /v1/models lists them).');
    }
  });

  it("GET on classify is a 405, POST on the description a 405", async () => {
    expect((await app.request("/v1/models/pets/classify")).status).toBe(405);
    expect((await app.request("/v1/models/pets", { method: "POST" })).status).toBe(405);
  });
});

describe("the default model", () => {
  it("is the first named, behind /v1/classify, /v1/model, /v1/model.bin and /health", async () => {
    const info = await (await app.request("/v1/model")).json() as { name: string; file: string };
    expect(info.name).toBe("pets");
    expect(info.file).toBe(`/v1/model.bin?v=${await sha256Hex(pets)}`);
    expect(new Uint8Array(await (await app.request("/v1/model.bin")).arrayBuffer())).toEqual(pets);
    const res = await app.request("/v1/classify", { method: "POST", body: JPEG });
    expect(((await res.json()) as { model: { name: string } }).model.name).toBe("pets");
    expect(((await (await app.request("/health")).json()) as { model: { name: string } }).model.name).toBe("pets");
  });

  it("is the one named by defaultModel (--default NAME)", async () => {
    const other = createApp({ models: [{ name: "pets", bytes: pets }, { name: "signs", bytes: signs }], defaultModel: "signs" });
    expect(((await (await other.request("/v1/model")).json()) as { name: string }).name).toBe("signs");
    expect(((await (await other.request("/v1/models")).json()) as { default: string }).default).toBe("signs");
  });

  it("a bad second model does not break the first: only its own routes are 500s naming it", async () => {
    const mixed = createApp({ models: [{ name: "pets", bytes: pets }, { name: "broken", bytes: pets.subarray(0, 100) }] });
    expect((await mixed.request("/v1/classify", { method: "POST", body: JPEG })).status).toBe(200);
    const res = await mixed.request("/v1/models/broken/classify", { method: "POST", body: JPEG });
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("model_invalid");
    expect(error.message).toMatch(/^The model file bundled with this Worker cannot be used: model file is truncated.*\(model "broken"\)$/);
    const list = await (await mixed.request("/v1/models")).json() as { models: Array<{ name: string; error?: string }> };
    expect(list.models.find((m) => m.name === "broken")?.error).toMatch(/truncated/);
    expect(list.models.find((m) => m.name === "pets")?.error).toBeUndefined();
  });
});

describe("the model cache", () => {
  it("ByteLru drops the least recently used entries once over its byte budget, never the newest", () => {
    const lru = new ByteLru<string>(100);
    lru.set("a", "A", 40);
    lru.set("b", "B", 40);
    expect(lru.get("a")).toBe("A"); // a is now the most recent
    lru.set("c", "C", 40); // 120 > 100: b goes
    expect(lru.keys()).toEqual(["a", "c"]);
    expect(lru.bytes).toBe(80);
    lru.set("huge", "H", 500); // bigger than the budget: kept alone
    expect(lru.keys()).toEqual(["huge"]);
    expect(lru.get("a")).toBeUndefined();
  });

  it("the Worker keeps decoded models within MODEL_CACHE_BYTES and re-decodes an evicted one", async () => {
    const small = createApp({ models: [{ name: "pets", bytes: pets }, { name: "signs", bytes: signs }] });
    const env = { MODEL_CACHE_BYTES: "1500000" }; // room for one tiny model (~1.1 MB estimated) only
    for (const name of ["pets", "signs", "pets"]) {
      const res = await small.request(`/v1/models/${name}/classify`, { method: "POST", body: JPEG }, env);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { model: { name: string } }).model.name).toBe(name);
    }
    const misconfigured = await small.request("/v1/models", {}, { MODEL_CACHE_BYTES: "lots" });
    expect(misconfigured.status).toBe(500);
    expect((await errorOf(misconfigured)).message).toMatch(/MODEL_CACHE_BYTES must be a positive integer/);
  });
});
