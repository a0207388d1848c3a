// Entry point of a training worker thread. A worker starts without its parent's TypeScript loader
// (tsx from the CLI, vite-node under vitest), so it registers tsx itself, then loads the worker.
import { register } from "tsx/esm/api";

register();
await import("./step-worker.ts");
