// The Hono environment every route sees: wrangler bindings, and what the app's middleware puts on the
// context before a handler runs (this request's settings, the model registry and the model it chose).
import type { Bindings, Settings } from "./config.ts";
import type { ServedModel } from "./model.ts";
import type { ModelRegistry } from "./registry.ts";

export type AppEnv = {
  Bindings: Bindings;
  Variables: { model: ServedModel; settings: Settings; registry: ModelRegistry };
};
