// Every error the API returns is JSON {"error": {"code", "message"}} with the right status. Handlers
// throw ApiError; onError turns it (and anything unexpected) into that shape, so no client input can
// end as a bare 500 or an HTML page.

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ModelFormatError } from "../shared/index.ts";

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorResponse(c: Context, status: ContentfulStatusCode, code: string, message: string, headers: Record<string, string> = {}): Response {
  return c.json({ error: { code, message } }, status, headers);
}

/** app.onError: ApiError as is; a broken model file as a loud 500 naming the problem; the rest as 500. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return errorResponse(c, err.status, err.code, err.message, err.headers);
  if (err instanceof ModelFormatError) {
    return errorResponse(c, 500, "model_invalid", `The model file bundled with this Worker cannot be used: ${err.message}`);
  }
  if (err instanceof HTTPException) return errorResponse(c, err.status as ContentfulStatusCode, "http_error", err.message || "request failed");
  console.error("unexpected error", err);
  return errorResponse(c, 500, "internal", "Internal error while handling the request; it has been logged. Try again, and report it if it persists.");
}

export function onNotFound(c: Context): Response {
  return errorResponse(c, 404, "not_found",
    `There is no ${c.req.method} ${c.req.path}. The API has POST /v1/classify, GET /v1/model, GET /v1/model.bin, GET /v1/models, GET /v1/models/NAME (and its /classify and /model.bin) and GET /health; the demo page is GET / and the widget GET /widget.js.`);
}
