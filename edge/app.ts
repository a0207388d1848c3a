// The Worker's Hono app, built around one or more model files. createApp is a factory so tests can
// build apps around good and bad model bytes and other settings; edge/index.ts builds the shipped one,
// and `edge-cnn serve/deploy --model ...` generate an entry module that builds one around theirs.
//
// Order per request: CORS (so browsers see errors too) -> 405 for known paths -> settings -> model
// (the default one, or /v1/models/NAME's; decoded once per isolate and kept in a bounded cache; a bad
// file is a 500 naming the problem, an unknown name a 404 naming the models) -> auth (classify only)
// -> route.

import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { apiKeyAuth } from "./auth.ts";
import { DEFAULT_SETTINGS, readSettings, type Settings } from "./config.ts";
import type { AppEnv } from "./context.ts";
import { ApiError, errorResponse, onError, onNotFound } from "./errors.ts";
import { ModelRegistry, type BundledModel } from "./registry.ts";
import { classifyRoute } from "./routes/classify.ts";
import { demoRoutes } from "./routes/demo.ts";
import { healthRoute } from "./routes/health.ts";
import { modelRoutes } from "./routes/model.ts";
import { modelsRoutes } from "./routes/models.ts";
import { MODEL_NAME_PATTERN } from "../shared/model-store.ts";

export interface AppOptions extends Partial<Settings> {
  /** One model file (a Data module in the Worker), served as the default model "default". */
  modelBytes?: ArrayBuffer | Uint8Array;
  /** Or several, by name. */
  models?: BundledModel[];
  /** The model behind /v1/classify, /v1/model and /v1/model.bin: the first of `models` unless named. */
  defaultModel?: string;
}

export function createApp(options: AppOptions) {
  const { modelBytes, models: given, defaultModel, ...overrides } = options;
  const defaults: Settings = { ...DEFAULT_SETTINGS, ...overrides };
  const models = given ?? (modelBytes ? [{ name: "default", bytes: modelBytes }] : []);
  for (const m of models) if (!MODEL_NAME_PATTERN.test(m.name)) throw new Error(`model name ${JSON.stringify(m.name)} is not allowed: use letters, digits, - and _`);
  const defaultName = defaultModel ?? models[0]?.name;
  if (!defaultName) throw new Error("createApp needs at least one model (models or modelBytes) or a defaultModel name");
  const registry = new ModelRegistry(models, defaultName, defaults.modelCacheBytes);
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
    const settings = readSettings(c.env, defaults);
    registry.cache.maxBytes = settings.modelCacheBytes;
    c.set("settings", settings);
    c.set("registry", registry);
    await next();
  });
  const useModel = async (c: Context<AppEnv>, name: string) => {
    if (!MODEL_NAME_PATTERN.test(name)) {
      throw new ApiError(404, "model_not_found", `There is no model ${JSON.stringify(name)}; model names are letters, digits, - and _. GET /v1/models lists the models.`);
    }
    const { model, warning } = await registry.get(name, c.env?.MODELS);
    c.set("model", model);
    if (warning) c.header("Edge-Cnn-Warning", warning.replace(/[^\x20-\x7e]/g, "?"));
  };
  for (const path of ["/", "/health", "/v1/model", "/v1/model.bin", "/v1/classify"]) {
    app.use(path, async (c, next) => {
      await useModel(c, registry.defaultName);
      await next();
    });
  }
  app.use("/v1/models/:name/*", async (c, next) => {
    await useModel(c, c.req.param("name"));
    await next();
  });
  app.use("/v1/classify", apiKeyAuth());
  app.use("/v1/models/:name/classify", apiKeyAuth());

  app.route("/health", healthRoute);
  app.route("/v1", modelRoutes);
  app.route("/v1/classify", classifyRoute);
  app.route("/v1/models", modelsRoutes);
  app.route("/", demoRoutes);
  app.notFound(onNotFound);
  app.onError(onError);
  return app;
}
