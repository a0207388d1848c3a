// Every route except classify's pipeline (classify.test.ts) and its errors (errors.test.ts):
// health, model metadata, the model file with its caching, 404, 405, CORS and API keys.

import { describe, expect, it } from "vitest";
import { JPEG, TINY_LABELS, classify, errorOf, tinyApp, tinyModelBytes } from "./helpers.ts";

const app = tinyApp();

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

describe("GET /health", () => {
  it("is 200 with the loaded model's identity", async () => {
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    const body = await res.json() as { status: string; model: { name: string; sha256: string } };
    expect(body.status).toBe("ok");
    expect(body.model.name).toBe("tiny");
    expect(body.model.sha256).toBe(await sha256Hex(tinyModelBytes()));
  });
});

describe("GET /v1/model", () => {
  it("describes the model: name, version, sha256, labels, input, preprocessing, dtype, parameters, metrics, preview", async () => {
    const res = await app.request("/v1/model");
    expect(res.status).toBe(200);
    const sha256 = await sha256Hex(tinyModelBytes());
    expect(await res.json()).toEqual({
      name: "tiny", version: "1.2.3", sha256, preview: false, labels: TINY_LABELS,
      input: { channels: 3, height: 16, width: 16 },
      preprocess: { crop: "center", resize: "area", size: [16, 16], background: [255, 255, 255], scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] },
      architecture: "tiny", dtype: "f32", parameters: 4 * 3 * 9 + 4 + 4 * 8 * 8 * 3 + 3,
      size_bytes: tinyModelBytes().length, metrics: { val_accuracy: 0.5 }, file: `/v1/model.bin?v=${sha256}`,
    });
  });

  it("says when the model is a preview", async () => {
    const res = await tinyApp({ modelBytes: tinyModelBytes({ preview: true }) }).request("/v1/model");
    expect(((await res.json()) as { preview: boolean }).preview).toBe(true);
  });
});

describe("GET /v1/model.bin", () => {
  const file = tinyModelBytes();

  it("serves the model file byte for byte with ETag = quoted sha256, revalidated when unversioned", async () => {
    const res = await app.request("/v1/model.bin");
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file);
    expect(res.headers.get("etag")).toBe(`"${await sha256Hex(file)}"`);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="tiny-1.2.3.bin"');
    expect(res.headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
  });

  it("caches the versioned URL from /v1/model for a year (immutable)", async () => {
    const { file: url } = await (await app.request("/v1/model")).json() as { file: string };
    const res = await app.request(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file);
  });

  it("answers 304 without a body when If-None-Match matches (also weak, in a list, or *)", async () => {
    const etag = `"${await sha256Hex(file)}"`;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await app.request("/v1/model.bin", { headers: { "If-None-Match": header } });
      expect(res.status, header).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect(await res.text()).toBe("");
    }
    const stale = await app.request("/v1/model.bin", { headers: { "If-None-Match": '"0000"' } });
    expect(stale.status).toBe(200);
  });

  it("is 404 for a version that is not the served model", async () => {
    const res = await app.request("/v1/model.bin?v=deadbeef");
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toContain("is not served here");
  });

  it("answers HEAD without a body", async () => {
    const res = await app.request("/v1/model.bin", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{64}"$/);
    expect(await res.text()).toBe("");
  });
});

describe("unknown paths and methods", () => {
  it("404 is JSON and lists the API", async () => {
    for (const path of ["/index.html", "/v1", "/v1/nothing", "/classify"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      const error = await errorOf(res);
      expect(error.code).toBe("not_found");
      expect(error.message).toContain("POST /v1/classify");
    }
  });

  it("405 with Allow for a known path with the wrong method", async () => {
    const cases: Array<[string, string, string]> = [
      ["GET", "/v1/classify", "POST"],
      ["PUT", "/v1/classify", "POST"],
      ["POST", "/v1/model", "GET, HEAD"],
      ["DELETE", "/v1/model.bin", "GET, HEAD"],
      ["POST", "/health", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await app.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      const error = await errorOf(res);
      expect(error.code).toBe("method_not_allowed");
      expect(error.message).toContain(`${method} is not allowed on ${path}`);
    }
  });
});

describe("CORS", () => {
  it("allows any origin by default on classify and model metadata, and exposes Server-Timing", async () => {
    const res = await classify(app, JPEG, { Origin: "https://blog.example" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toContain("Server-Timing");
    const meta = await app.request("/v1/model", { headers: { Origin: "https://blog.example" } });
    expect(meta.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("answers the preflight for a cross-origin POST with Authorization", async () => {
    const res = await app.request("/v1/classify", {
      method: "OPTIONS",
      headers: { Origin: "https://blog.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("access-control-max-age")).toBe("86400");
  });

  it("allows only the listed origins when CORS_ORIGINS is set", async () => {
    const env = { CORS_ORIGINS: "https://a.example, https://b.example" };
    const allowed = await app.request("/v1/model", { headers: { Origin: "https://b.example" } }, env);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://b.example");
    expect(allowed.headers.get("vary")).toContain("Origin");
    const refused = await app.request("/v1/model", { headers: { Origin: "https://evil.example" } }, env);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await app.request("/v1/classify", {
      method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" },
    }, env);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("error responses carry the CORS headers too, so a widget can read them", async () => {
    const res = await classify(app, new Uint8Array(0), { Origin: "https://blog.example" });
    expect(res.status).toBe(400);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("API keys (API_KEYS secret)", () => {
  const env = { API_KEYS: "key-one, key-two" };

  it("classify needs a key when keys are configured", async () => {
    const res = await classify(app, JPEG, {}, "", env);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="edge-cnn"');
    const error = await errorOf(res);
    expect(error.code).toBe("unauthorized");
    expect(error.message).toContain("Authorization: Bearer");
  });

  it("refuses a wrong key, a key prefix, a non-Bearer scheme and an empty key", async () => {
    for (const auth of ["Bearer wrong", "Bearer key-on", "Bearer key-one-and-more", "Basic a2V5LW9uZQ==", "Bearer ", "key-one"]) {
      const res = await classify(app, JPEG, { Authorization: auth }, "", env);
      expect(res.status, auth).toBe(401);
      await errorOf(res);
    }
  });

  it("accepts any configured key (surrounding spaces in the list ignored)", async () => {
    for (const key of ["key-one", "key-two"]) {
      const res = await classify(app, JPEG, { Authorization: `Bearer ${key}` }, "", env);
      expect(res.status, key).toBe(200);
    }
  });

  it("checks the key before reading the body", async () => {
    const res = await classify(app, new Uint8Array(0), {}, "", env);
    expect(res.status).toBe(401);
  });

  it("leaves metadata, the model file, health and preflights open", async () => {
    for (const path of ["/v1/model", "/v1/model.bin", "/health"]) expect((await app.request(path, {}, env)).status, path).toBe(200);
    const preflight = await app.request("/v1/classify", { method: "OPTIONS", headers: { Origin: "https://x.example", "Access-Control-Request-Method": "POST" } }, env);
    expect(preflight.status).toBe(204);
  });

  it("needs no key when API_KEYS is unset or empty", async () => {
    expect((await classify(app, JPEG)).status).toBe(200);
    expect((await classify(app, JPEG, {}, "", { API_KEYS: " , " })).status).toBe(200);
  });
});
