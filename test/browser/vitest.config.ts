// `npm run test:browser`: the widget and the demo page in a real headless Chromium (Debian's, driven by
// playwright-core) against `wrangler dev` serving the shipped model.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "browser",
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
