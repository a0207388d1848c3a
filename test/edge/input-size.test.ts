// A model trained with --input-size 64 in the Worker: its own 64x64 preprocessing for image bodies and
// pixel uploads, the probabilities the shared forward pass gives on the same pixels, and the input
// size in GET /v1/model. An airbench-small body with batchnorm, so the Worker's folding runs too.

import { describe, expect, it } from "vitest";
import { createApp } from "../../edge/app.ts";
import { decodeImage } from "../../edge/decode.ts";
import { readImageHeader } from "../../shared/image-header.ts";
import { ARCHITECTURES, defaultPreprocess, encodeModel, forwardViews, initNetwork, loadNetwork, Network, rankPredictions, resizeToModel } from "../../shared/index.ts";
import { classify, JPEG } from "./helpers.ts";

const LABELS = ["cat", "dog", "hand"];
const preprocess = { ...defaultPreprocess([64, 64]), views: "flip" as const };
const net = new Network(ARCHITECTURES["airbench-small"](3, 64));
initNetwork(net, 4);
const bytes = encodeModel(net, { name: "big", version: "1.0.0", labels: LABELS, preprocess, metrics: {}, provenance: {} }, "f32");
const app = createApp({ modelBytes: bytes });

interface Classified { predictions: Array<{ label: string; index: number; score: number }> }

describe("a 64x64 model in the Worker", () => {
  it("classifies a JPEG at 64x64, with the scores the shared forward pass gives", async () => {
    const res = await classify(app, JPEG, { "Content-Type": "image/jpeg" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Classified;
    const rgb = resizeToModel(await decodeImage(JPEG, readImageHeader(JPEG)!, preprocess.size), preprocess);
    expect(rgb.length).toBe(64 * 64 * 3);
    const loaded = loadNetwork(bytes).net;
    const expected = rankPredictions(forwardViews(loaded, 1, () => rgb, preprocess, "flip"), LABELS);
    expect(body.predictions.map((p) => p.index)).toEqual(expected.map((p) => p.index));
    body.predictions.forEach((p, i) => expect(p.score).toBeCloseTo(expected[i].score, 5));
  });

  it("takes 64x64x3 pixel uploads and refuses 32x32 ones, naming the size", async () => {
    const ok = await classify(app, new Uint8Array(64 * 64 * 3).fill(90), { "Content-Type": "application/vnd.edge-cnn.pixels" });
    expect(ok.status).toBe(200);
    const small = await classify(app, new Uint8Array(32 * 32 * 3), { "Content-Type": "application/vnd.edge-cnn.pixels" });
    expect(small.status).toBe(400);
    expect(((await small.json()) as { error: { message: string } }).error.message).toMatch(/exactly 64x64x3 = 12288 bytes/);
  });

  it("GET /v1/model says 64x64", async () => {
    const res = await app.request("/v1/model");
    const info = (await res.json()) as { input: { channels: number; height: number; width: number }; preprocess: { size: number[] } };
    expect(info.input).toEqual({ channels: 3, height: 64, width: 64 });
    expect(info.preprocess.size).toEqual([64, 64]);
  });
});
