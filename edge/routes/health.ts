// GET /health: 200 when the model is loaded and ready (a broken model file makes it a 500, like
// every other route, instead of reporting healthy while classification fails).

import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

export const healthRoute = new Hono<AppEnv>().get("/", (c) => {
  const m = c.var.model;
  return c.json({ status: "ok", model: { name: m.meta.name, version: m.meta.version, sha256: m.sha256 } });
});
