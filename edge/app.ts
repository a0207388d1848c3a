// The Worker's Hono app, built around one model file. createApp is a factory so tests can build
// apps around good and bad model bytes and other settings; edge/index.ts builds the deployed one.
//
// Order per request: CORS (so browsers see errors too) -> 405 for known paths -> settings -> model
// (decoded once per isolate; a bad file is a 500 naming the problem) -> auth (classify only) -> route.

import { Hono } from "hono";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { apiKeyAuth } from "./auth.ts";
import { DEFAULT_SETTINGS, readSettings, type Settings } from "./config.ts";
import type { AppEnv } from "./context.ts";
import { errorResponse, onError, onNotFound } from "./errors.ts";
import { modelLoader } from "./model.ts";
import { classifyRoute } from "./routes/classify.ts";
import { demoRoutes } from "./routes/demo.ts";
import { healthRoute } from "./routes/health.ts";
import { modelRoutes } from "./routes/model.ts";

export interface AppOptions extends Partial<Settings> {
  /** The model file (a Data module in the Worker). */
  modelBytes: ArrayBuffer | Uint8Array;
}

export function createApp(options: AppOptions) {
  const { modelBytes, ...overrides } = options;
  const defaults: Settings = { ...DEFAULT_SETTINGS, ...overrides };
  const loadModel = modelLoader(modelBytes);
  const app = new Hono<AppEnv>();

  app.use("/v1/*", cors({
    origin: (origin, c) => {
      const allowed = readSettings(c.env, defaults).corsOrigins;
      return allowed.includes("*") ? "*" : allowed.includes(origin) ? origin : null;
    },
    allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type", "Authorization"],
    exposeHeaders: ["Server-Timing", "ETag"],
    maxAge: 86400,
  }));
  app.use(methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) => errorResponse(c, 405, "method_not_allowed",
      `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(" or ")}.`, { Allow: methods.join(", ") }),
  }));
  app.use(async (c, next) => {
    c.set("settings", readSettings(c.env, defaults));
    await next();
  });
  for (const path of ["/", "/health", "/v1/*"]) {
    app.use(path, async (c, next) => {
      c.set("model", await loadModel());
      await next();
    });
  }
  app.use("/v1/classify", apiKeyAuth());

  app.route("/health", healthRoute);
  app.route("/v1", modelRoutes);
  app.route("/v1/classify", classifyRoute);
  app.route("/", demoRoutes);
  app.notFound(onNotFound);
  app.onError(onError);
  return app;
}
