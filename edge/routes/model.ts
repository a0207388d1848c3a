// GET /v1/model (what the model is) and GET /v1/model.bin (the file itself, for the widget's local
// mode). The file's SHA-256 is its identity: the ETag, and the `v` in the versioned URL that /v1/model
// hands out. Only that URL is cached for a year: /v1/model.bin without it changes on every deploy of a
// new model, so it is revalidated (a cheap 304) instead of going stale in browsers and CDNs.

import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";

export const modelRoutes = new Hono<AppEnv>()
  .get("/model", (c) => {
    const m = c.var.model;
    const [channels, height, width] = m.spec.input;
    return c.json({
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
      file: `/v1/model.bin?v=${m.sha256}`,
    });
  })
  .get("/model.bin", (c) => {
    const m = c.var.model;
    const etag = `"${m.sha256}"`;
    const version = c.req.query("v");
    if (version !== undefined && version !== m.sha256) {
      throw new ApiError(404, "not_found", `Model version ${JSON.stringify(version)} is not served here; the current model is ${m.sha256}. Fetch GET /v1/model for its URL.`);
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
  });

/** If-None-Match: "*" or a list of (possibly weak) entity tags. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").map((t) => t.trim().replace(/^W\//, "")).some((t) => t === "*" || t === etag);
}
