// Optional API keys: when the API_KEYS secret is set, a request needs `Authorization: Bearer KEY`
// with one of them. Keys are compared as SHA-256 digests with timingSafeEqual, against every key
// without stopping early, so response time reveals neither a key's prefix nor which key matched.

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.ts";
import { ApiError } from "./errors.ts";

export interface ApiKeyOptions {
  /** The realm named in WWW-Authenticate. */
  realm: string;
}

const DEFAULTS: ApiKeyOptions = { realm: "edge-cnn" };

export function apiKeyAuth(options: Partial<ApiKeyOptions> = {}): MiddlewareHandler<AppEnv> {
  const { realm } = { ...DEFAULTS, ...options };
  const challenge = { "WWW-Authenticate": `Bearer realm="${realm}"` };
  return async (c, next) => {
    const keys = c.var.settings.apiKeys;
    if (keys.length === 0) return next();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      throw new ApiError(401, "unauthorized", "This API needs an API key: send the header `Authorization: Bearer YOUR_KEY`.", challenge);
    }
    if (!(await isOneOf(match[1], keys))) {
      throw new ApiError(401, "unauthorized", "The API key is not valid. Check it, or ask the operator of this server for a key.", challenge);
    }
    return next();
  };
}

async function isOneOf(given: string, keys: string[]): Promise<boolean> {
  const digest = await sha256(given);
  let found = false;
  for (const key of keys) found = crypto.subtle.timingSafeEqual(digest, await sha256(key)) || found;
  return found;
}

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}
