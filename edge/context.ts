// The Hono environment every route sees: wrangler bindings, and what the app's middleware puts on the
// context before a handler runs (the loaded model and this request's settings).
import type { Bindings, Settings } from "./config.ts";
import type { ServedModel } from "./model.ts";

export type AppEnv = {
  Bindings: Bindings;
  Variables: { model: ServedModel; settings: Settings };
};
