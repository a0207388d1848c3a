// The Worker's settings: wrangler.toml [vars] and secrets, read per request from env, over defaults
// that createApp may override (tests do).

import { ApiError } from "./errors.ts";

/** What wrangler.toml [vars] and `wrangler secret put` may set. All optional. */
export interface Bindings {
  /** Largest request body in bytes (default 32 MiB: a 48 MP phone JPEG or a 12 MP PNG). */
  MAX_UPLOAD_BYTES?: string;
  /** Largest image, width x height, checked from the header before decoding (default 50 megapixels). */
  MAX_PIXELS?: string;
  /** Comma-separated origins allowed to call /v1/* from a browser, or "*" (default). */
  CORS_ORIGINS?: string;
  /** Secret: comma-separated API keys. When set, /v1/classify requires `Authorization: Bearer KEY`. */
  API_KEYS?: string;
  /** Bytes of decoded models kept per isolate, least recently used dropped first (default 32 MiB). */
  MODEL_CACHE_BYTES?: string;
  /** Optional R2 bucket of published models (edge-cnn publish); without it only bundled models are served. */
  MODELS?: R2Bucket;
}

export interface Settings {
  maxUploadBytes: number;
  maxPixels: number;
  corsOrigins: string[];
  apiKeys: string[];
  modelCacheBytes: number;
}

export const DEFAULT_SETTINGS: Settings = {
  maxUploadBytes: 32 * 1024 * 1024,
  maxPixels: 50_000_000,
  corsOrigins: ["*"],
  apiKeys: [],
  modelCacheBytes: 32 * 1024 * 1024,
};

/** `defaults` overridden by whatever env sets. A malformed value is the operator's mistake: a 500 that names it. */
export function readSettings(env: Bindings | undefined, defaults: Settings): Settings {
  return {
    maxUploadBytes: env?.MAX_UPLOAD_BYTES !== undefined ? positiveInt("MAX_UPLOAD_BYTES", env.MAX_UPLOAD_BYTES) : defaults.maxUploadBytes,
    maxPixels: env?.MAX_PIXELS !== undefined ? positiveInt("MAX_PIXELS", env.MAX_PIXELS) : defaults.maxPixels,
    corsOrigins: env?.CORS_ORIGINS !== undefined ? list(env.CORS_ORIGINS) : defaults.corsOrigins,
    apiKeys: env?.API_KEYS !== undefined ? list(env.API_KEYS) : defaults.apiKeys,
    modelCacheBytes: env?.MODEL_CACHE_BYTES !== undefined ? positiveInt("MODEL_CACHE_BYTES", env.MODEL_CACHE_BYTES) : defaults.modelCacheBytes,
  };
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new ApiError(500, "misconfigured", `The Worker is misconfigured: ${name} must be a positive integer, got ${JSON.stringify(value)}. Fix it in wrangler.toml [vars].`);
  }
  return n;
}

function list(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}
