// POST /v1/classify on good input: raw bodies of every format (whatever the Content-Type says),
// multipart, pre-processed pixels, top=K, the response shape and Server-Timing.

import { describe, expect, it } from "vitest";
import { decodeImage } from "../../edge/decode.ts";
import { PIXELS_CONTENT_TYPE } from "../../edge/routes/classify.ts";
import { readImageHeader } from "../../shared/image-header.ts";
import { defaultPreprocess, resizeToModel } from "../../shared/index.ts";
import { FIXTURES, JPEG, PNG, TINY_LABELS, WEBP, classify, form, tinyApp } from "./helpers.ts";

const app = tinyApp();

interface Prediction { label: string; index: number; score: number }
interface Classified {
  model: { name: string; version: string; sha256: string };
  predictions: Prediction[];
  timing: { decode_ms: number; infer_ms: number };
}

async function ok(res: Response): Promise<Classified> {
  expect(res.status).toBe(200);
  return (await res.json()) as Classified;
}

describe("POST /v1/classify", () => {
  it("answers model, predictions sorted by score, timing, and a Server-Timing header", async () => {
    const res = await classify(app, JPEG, { "Content-Type": "image/jpeg" });
    const body = await ok(res);
    expect(Object.keys(body)).toEqual(["model", "predictions", "timing"]);
    expect(body.model).toEqual({ name: "tiny", version: "1.2.3", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(body.predictions).toHaveLength(3); // default top 3 (this model has 3 classes)
    for (const p of body.predictions) {
      expect(Object.keys(p)).toEqual(["label", "index", "score"]);
      expect(p.label).toBe(TINY_LABELS[p.index]);
    }
    const scores = body.predictions.map((p) => p.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    expect(body.timing.decode_ms).toBeGreaterThanOrEqual(0);
    expect(body.timing.infer_ms).toBeGreaterThanOrEqual(0);
    expect(res.headers.get("server-timing")).toBe(`decode;dur=${body.timing.decode_ms}, infer;dur=${body.timing.infer_ms}`);
  });

  it("classifies JPEG, PNG and WebP bodies", async () => {
    for (const bytes of [JPEG, PNG, WEBP]) await ok(await classify(app, bytes));
  });

  it("detects the format from the bytes: the Content-Type (right, wrong or missing) changes nothing", async () => {
    const expected = (await ok(await classify(app, PNG, { "Content-Type": "image/png" }))).predictions;
    for (const type of ["image/jpeg", "application/octet-stream", "text/plain", "image/webp; charset=x"]) {
      expect((await ok(await classify(app, PNG, { "Content-Type": type }))).predictions, type).toEqual(expected);
    }
    expect((await ok(await classify(app, PNG))).predictions).toEqual(expected);
  });

  it("takes multipart/form-data with the file in field \"image\" (other fields ignored)", async () => {
    const expected = (await ok(await classify(app, WEBP))).predictions;
    expect((await ok(await classify(app, form({ image: WEBP })))).predictions).toEqual(expected);
    expect((await ok(await classify(app, form({ note: "hello", image: WEBP, other: JPEG })))).predictions).toEqual(expected);
  });

  it("takes pre-processed pixels (application/vnd.edge-cnn.pixels): the same answer as the image", async () => {
    for (const file of ["cat-320x240.jpg", "sign-exif-orientation-6.jpg", "cat-alpha.png"]) {
      const bytes = FIXTURES[file];
      const pixels = await decodeImage(bytes, readImageHeader(bytes)!, [16, 16]);
      const rgb = resizeToModel(pixels, defaultPreprocess([16, 16])); // what a client resizing itself sends
      const fromImage = (await ok(await classify(app, bytes))).predictions;
      const fromPixels = (await ok(await classify(app, rgb, { "Content-Type": PIXELS_CONTENT_TYPE }))).predictions;
      expect(fromPixels, file).toEqual(fromImage);
    }
  });

  it("returns the top K for top=K, up to every class", async () => {
    const all = (await ok(await classify(app, JPEG, {}, "top=3"))).predictions;
    expect((await ok(await classify(app, JPEG, {}, "top=1"))).predictions).toEqual(all.slice(0, 1));
    expect((await ok(await classify(app, JPEG, {}, "top=2"))).predictions).toEqual(all.slice(0, 2));
    expect(all.map((p) => p.index).sort()).toEqual([0, 1, 2]);
  });

  it("gives the same answer for the same image however many requests come between (no state leaks)", async () => {
    const first = (await ok(await classify(app, JPEG))).predictions;
    for (const bytes of [PNG, WEBP, FIXTURES["dog-500x375-progressive.jpg"]]) await ok(await classify(app, bytes));
    expect((await ok(await classify(app, JPEG))).predictions).toEqual(first);
  });

  it("accepts a streamed body without Content-Length", async () => {
    const chunks = [JPEG.subarray(0, 1000), JPEG.subarray(1000, 5000), JPEG.subarray(5000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const expected = (await ok(await classify(app, JPEG))).predictions;
    expect((await ok(await classify(app, stream))).predictions).toEqual(expected);
  });

  it("decodes a PNG body while it arrives: in 1-byte to 5000-byte pieces, the same answer as in one", async () => {
    for (const bytes of [PNG, FIXTURES["dog-palette-interlaced.png"]]) {
      const expected = (await ok(await classify(app, bytes))).predictions;
      for (const size of [1, 61, 5000]) {
        let at = 0, pulls = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            pulls++;
            if (at >= bytes.length) controller.close();
            else controller.enqueue(bytes.slice(at, (at += size)));
          },
        });
        expect((await ok(await classify(app, stream))).predictions, `pieces of ${size}`).toEqual(expected);
        expect(pulls).toBeGreaterThan(bytes.length / size);
      }
    }
  });
});
