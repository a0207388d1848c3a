// The deployed Worker as wrangler runs it: edge/index.ts with the model file chosen in
// edge/model-file.ts (models/cifar10.bin), through the Workers runtime's own fetch path.
// Needs that model file; if this file fails to load, the shipped model is missing.

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import modelFile from "../../edge/model-file.ts";
import { loadNetwork } from "../../shared/index.ts";
import { JPEG } from "./helpers.ts";

// `exports` is typed from the generated Env types, which this project does not generate.
const worker = (exports as unknown as { default: Fetcher }).default;
const url = (path: string): string => `http://edge-cnn.test${path}`;

describe("the shipped Worker (edge/index.ts + the bundled model)", () => {
  it("serves the bundled model file, which is valid", async () => {
    const { meta } = loadNetwork(modelFile); // throws ModelFormatError for a bad shipped model
    const res = await worker.fetch(new Request(url("/v1/model")));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { name: string; labels: string[]; size_bytes: number };
    expect(body.name).toBe(meta.name);
    expect(body.labels).toEqual(meta.labels);
    expect(body.size_bytes).toBe(modelFile.byteLength);
  });

  it("classifies a photo", async () => {
    const res = await worker.fetch(new Request(url("/v1/classify"), { method: "POST", body: JPEG, headers: { "Content-Type": "image/jpeg" } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: unknown[] };
    expect(body.predictions).toHaveLength(3);
  });
});
