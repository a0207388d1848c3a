// POST /v1/classify: the body is the image itself, a multipart form with the file in field "image",
// or (Content-Type application/vnd.edge-cnn.pixels) the model's input already cropped and resized.
// The image format is read from the bytes, never from Content-Type. A PNG body is decoded as it arrives.

import { Hono } from "hono";
import { sniffImageFormat } from "../../shared/image-header.ts";
import { checkModelInput, imageToModelInput, pngUploadToModelInput, predict } from "../classify.ts";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { openUpload } from "../limits.ts";

export const PIXELS_CONTENT_TYPE = "application/vnd.edge-cnn.pixels";
const DEFAULT_TOP = 3;

export const classifyRoute = new Hono<AppEnv>().post("/", async (c) => {
  const model = c.var.model, settings = c.var.settings;
  const classes = model.meta.labels.length;
  const top = parseTop(c.req.query("top"), classes); // cheap checks before reading the body

  const upload = await openUpload(c.req.raw, settings.maxUploadBytes);
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  let t0 = performance.now();
  let rgb: Uint8Array;
  if (type === PIXELS_CONTENT_TYPE) {
    const body = await upload.all();
    t0 = performance.now();
    rgb = checkModelInput(nonEmpty(body), model);
  } else if (type !== "multipart/form-data" && sniffImageFormat(upload.head) === "PNG") {
    // Decoded as it arrives, so "decode" includes receiving the rest of the body.
    rgb = await pngUploadToModelInput(upload, model, settings.maxPixels);
  } else {
    const body = await upload.all();
    t0 = performance.now();
    const bytes = type === "multipart/form-data" ? await imageField(body, c.req.header("content-type")!) : body;
    rgb = await imageToModelInput(nonEmpty(bytes), model, settings.maxPixels);
  }
  const t1 = performance.now();
  const predictions = predict(rgb, model, top);
  const t2 = performance.now();

  // Workers' clocks advance only across I/O, so in production these read 0 for pure CPU work
  // (a Spectre mitigation); locally (wrangler dev, tests) they are real.
  const decodeMs = round(t1 - t0), inferMs = round(t2 - t1);
  c.header("Server-Timing", `decode;dur=${decodeMs}, infer;dur=${inferMs}`);
  return c.json({
    model: { name: model.meta.name, version: model.meta.version, sha256: model.sha256 },
    predictions,
    timing: { decode_ms: decodeMs, infer_ms: inferMs },
  });
});

function parseTop(value: string | undefined, classes: number): number {
  if (value === undefined) return Math.min(DEFAULT_TOP, classes);
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > classes) {
    throw new ApiError(400, "bad_top", `top must be a whole number from 1 to ${classes} (this model's classes), got ${JSON.stringify(value)}.`);
  }
  return n;
}

function nonEmpty(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) {
    throw new ApiError(400, "empty_body", "The request has no image. Send the image bytes as the body (or a multipart form with the file in field \"image\").");
  }
  return bytes;
}

/** The bytes of the file in multipart field "image". */
async function imageField(body: Uint8Array, contentType: string): Promise<Uint8Array> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new ApiError(400, "bad_multipart", "The multipart/form-data body cannot be parsed (wrong boundary or cut off). Send the form again, or send the image bytes as the body.");
  }
  const field = form.get("image");
  if (field === null) {
    const names = [...new Set(form.keys())];
    throw new ApiError(400, "missing_image", `The form has no field "image"${names.length ? ` (it has ${names.map((n) => JSON.stringify(n)).join(", ")})` : ""}. Put the image file in a field named "image".`);
  }
  if (typeof field === "string") throw new ApiError(400, "missing_image", "The form field \"image\" is text, not a file. Attach the image file to it.");
  return new Uint8Array(await field.arrayBuffer());
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
