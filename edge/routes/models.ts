// Several models in one Worker: GET /v1/models lists them; GET /v1/models/NAME, GET
// /v1/models/NAME/model.bin and POST /v1/models/NAME/classify address one (the app's middleware has
// already put that model on the context, or answered 404 naming the models that exist).

import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { classifyRoute } from "./classify.ts";
import { describeModel, modelFile } from "./model.ts";

const base = (name: string): string => `/v1/models/${encodeURIComponent(name)}`;

export const modelsRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const registry = c.var.registry;
    const models = await registry.list(c.env?.MODELS);
    return c.json({
      default: registry.defaultName,
      models: models.map((m) => ({ ...m, url: base(m.name), default: m.name === registry.defaultName })),
    });
  })
  .get("/:name", (c) => c.json(describeModel(c.var.model, `${base(c.req.param("name"))}/model.bin`)))
  .get("/:name/model.bin", (c) => modelFile(c, base(c.req.param("name"))))
  .route("/:name/classify", classifyRoute);
