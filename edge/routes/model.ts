// GET /v1/model (what the model is) and GET /v1/model.bin (the file itself, for the widget's local
// mode), for the default model; the same answers serve GET /v1/models/NAME and its model.bin. The
// file's SHA-256 is its identity: the ETag, and the `v` in the versioned URL that the description
// hands out. Only that URL is cached for a year: model.bin without it changes when a new model is
// deployed or published, so it is revalidated (a cheap 304) instead of going stale in browsers and CDNs.

import { Hono, type Context } from "hono";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import type { ServedModel } from "../model.ts";

export function describeModel(m: ServedModel, fileUrl: string) {
  const [channels, height, width] = m.spec.input;
  return {
    name: m.meta.name,
    version: m.meta.version,
    sha256: m.sha256,
    preview: m.meta.preview ?? false,
    labels: m.meta.labels,
    input: { channels, height, width },
    preprocess: m.meta.preprocess,
    architecture: m.spec.name,
    dtype: m.dtype,
    parameters: m.parameters,
    size_bytes: m.bytes.length,
    metrics: m.meta.metrics,
    file: `${fileUrl}?v=${m.sha256}`,
  };
}

export function modelFile(c: Context<AppEnv>, describeUrl: string): Response {
  const m = c.var.model;
  const etag = `"${m.sha256}"`;
  const version = c.req.query("v");
  if (version !== undefined && version !== m.sha256) {
    throw new ApiError(404, "not_found", `Model version ${JSON.stringify(version)} is not served here; the current model is ${m.sha256}. Fetch GET ${describeUrl} for its URL.`);
  }
  const headers: Record<string, string> = {
    ETag: etag,
    "Cache-Control": version ? "public, max-age=31536000, immutable" : "public, max-age=0, must-revalidate",
  };
  if (etagMatches(c.req.header("if-none-match"), etag)) return c.body(null, 304, headers);
  const filename = `${m.meta.name}-${m.meta.version}.bin`.replace(/[^\w.-]+/g, "_");
  return c.body(m.bytes as Uint8Array<ArrayBuffer>, 200, {
    ...headers,
    "Content-Type": "application/octet-stream",
    "Content-Disposition": `attachment; filename="${filename}"`,
  });
}

export const modelRoutes = new Hono<AppEnv>()
  .get("/model", (c) => c.json(describeModel(c.var.model, "/v1/model.bin")))
  .get("/model.bin", (c) => modelFile(c, "/v1/model"));

/** If-None-Match: "*" or a list of (possibly weak) entity tags. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").map((t) => t.trim().replace(/^W\//, "")).some((t) => t === "*" || t === etag);
}
