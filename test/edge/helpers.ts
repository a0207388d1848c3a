// Shared pieces of the workerd tests: small models built at test time, apps around them, requests,
// and the image fixtures of test/fixtures/edge/ (imported with Vite's `?inline`, as base64 data URLs:
// Vite claims image imports as assets before the Workers pool's module rules see them).

import { expect } from "vitest";
import { createApp, type AppOptions } from "../../edge/app.ts";
import type { Bindings } from "../../edge/config.ts";
import { defaultPreprocess, encodeModel, heInit, Network, type ArchSpec, type ModelMeta } from "../../shared/index.ts";
import catAlphaLosslessWebp from "../fixtures/edge/cat-alpha-lossless.webp?inline";
import catAlphaPng from "../fixtures/edge/cat-alpha.png?inline";
import cat16bitPng from "../fixtures/edge/cat-16bit.png?inline";
import cat200x300Jpg from "../fixtures/edge/cat-200x300-444.jpg?inline";
import cat320x240Jpg from "../fixtures/edge/cat-320x240.jpg?inline";
import dog41x33Jpg from "../fixtures/edge/dog-41x33.jpg?inline";
import dog500x375Jpg from "../fixtures/edge/dog-500x375-progressive.jpg?inline";
import dogPalettePng from "../fixtures/edge/dog-palette-interlaced.png?inline";
import dogWebp from "../fixtures/edge/dog.webp?inline";
import signExif6Jpg from "../fixtures/edge/sign-exif-orientation-6.jpg?inline";
import signGreyAlphaPng from "../fixtures/edge/sign-grey-alpha.png?inline";
import signGreyJpg from "../fixtures/edge/sign-grey.jpg?inline";
import signIccJpg from "../fixtures/edge/sign-icc-profile.jpg?inline";

/** Every file in test/fixtures/edge/ by name. */
export const FIXTURES: Record<string, Uint8Array> = Object.fromEntries(Object.entries({
  "cat-320x240.jpg": cat320x240Jpg,
  "dog-500x375-progressive.jpg": dog500x375Jpg,
  "cat-200x300-444.jpg": cat200x300Jpg,
  "dog-41x33.jpg": dog41x33Jpg,
  "sign-exif-orientation-6.jpg": signExif6Jpg,
  "sign-grey.jpg": signGreyJpg,
  "cat-alpha.png": catAlphaPng,
  "dog-palette-interlaced.png": dogPalettePng,
  "sign-grey-alpha.png": signGreyAlphaPng,
  "cat-16bit.png": cat16bitPng,
  "dog.webp": dogWebp,
  "cat-alpha-lossless.webp": catAlphaLosslessWebp,
  "sign-icc-profile.jpg": signIccJpg,
}).map(([name, dataUrl]) => [name, fromDataUrl(dataUrl)]));

function fromDataUrl(url: string): Uint8Array {
  const binary = atob(url.slice(url.indexOf(",") + 1));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

export const JPEG = FIXTURES["cat-320x240.jpg"];
export const PNG = FIXTURES["cat-alpha.png"];
export const WEBP = FIXTURES["dog.webp"];

export const TINY_LABELS = ["cat", "dog", "hand"];

/** A tiny network (16x16 input, 3 classes) so most tests run in microseconds. */
export function tinyModelBytes(meta: Partial<ModelMeta> = {}): Uint8Array {
  const spec: ArchSpec = {
    name: "tiny", input: [3, 16, 16],
    layers: [{ type: "conv", filters: 4, size: 3, pad: 1 }, { type: "relu" }, { type: "pool", size: 2 }, { type: "affine", units: 3 }],
  };
  const net = new Network(spec);
  heInit(net.params, 5);
  return encodeModel(net, {
    name: "tiny", version: "1.2.3", labels: TINY_LABELS, preprocess: defaultPreprocess([16, 16]),
    metrics: { val_accuracy: 0.5 }, provenance: {}, ...meta,
  }, "f32");
}

const TINY = tinyModelBytes();

export function tinyApp(options: Partial<AppOptions> = {}) {
  return createApp({ modelBytes: TINY, ...options });
}

type App = ReturnType<typeof createApp>;

/** POST /v1/classify with `body`; `query` like "top=2". */
export function classify(app: App, body: BodyInit | null, headers: Record<string, string> = {}, query = "", env?: Bindings): Promise<Response> {
  return Promise.resolve(app.request(`/v1/classify${query ? `?${query}` : ""}`, { method: "POST", body, headers }, env));
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export async function errorOf(res: Response): Promise<ErrorBody["error"]> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.code).toBe("string");
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

/** A multipart body with `fields` (a Uint8Array becomes a file). */
export function form(fields: Record<string, Uint8Array | string>): FormData {
  const fd = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    fd.append(name, typeof value === "string" ? value : new File([value as Uint8Array<ArrayBuffer>], `${name}.bin`));
  }
  return fd;
}
