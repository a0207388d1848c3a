// The widget's engine, without any UI: turn a picked image into the model's pixels in the browser and
// classify them, either remotely (the Worker runs the model on the pixel upload: a few KB instead of a
// 12-megapixel photo) or locally (the model file is downloaded once and shared/ runs right here, so no
// image leaves the device). The same shared/ decoders (JPEG, PNG), preprocessing and forward pass as
// the trainer and Worker.

import { bestKernels } from "../../shared/kernels/wasm-kernels.ts";
import { loadNetwork, type LoadedNetwork } from "../../shared/model-file.ts";
import { rankPredictions, type Prediction } from "../../shared/predict.ts";
import { resizeToModel, type Pixels, type PreprocessSpec } from "../../shared/preprocess.ts";
import { defaultViews, forwardViews } from "../../shared/views.ts";
import { decodeForModel, DecodeFailure } from "./decode.ts";

export interface ModelInfo {
  name: string;
  version: string;
  sha256: string;
  preview: boolean;
  labels: string[];
  input: { channels: number; height: number; width: number };
  preprocess: PreprocessSpec;
  metrics: Record<string, unknown>;
  file: string;
}

export interface Result {
  model: { name: string; version: string; sha256: string };
  predictions: Prediction[];
  mode: "remote" | "local";
  /** Local mode: the kernels that ran in the browser ("wasm-simd" or "ts"). */
  kernels?: string;
  /** Milliseconds from the click to the answer, as the visitor felt it. */
  ms: number;
  timing?: Record<string, number>;
}

/** An error with a message a visitor understands; `kind` lets the host page react. */
export class WidgetError extends Error {
  override name = "WidgetError";
  constructor(readonly kind: "too-large" | "not-an-image" | "unreachable" | "rate-limited" | "unauthorized" | "server", message: string) {
    super(message);
  }
}

const PIXELS_TYPE = "application/vnd.edge-cnn.pixels";

/** The Worker's URLs for one model: the default one, or model="NAME"'s (/v1/models/NAME). */
export function modelUrls(endpoint: string, model?: string | null): { info: string; classify: string } {
  if (!model) return { info: `${endpoint}/v1/model`, classify: `${endpoint}/v1/classify` };
  const base = `${endpoint}/v1/models/${encodeURIComponent(model)}`;
  return { info: base, classify: `${base}/classify` };
}

export async function fetchModelInfo(endpoint: string, model?: string | null): Promise<ModelInfo> {
  const res = await request(modelUrls(endpoint, model).info, {});
  return (await res.json()) as ModelInfo;
}

/** The model's uint8 input for `file`: shared decoders for JPEG and PNG (see decode.ts), shared preprocessing. */
async function modelInput(endpoint: string, file: Blob, spec: PreprocessSpec): Promise<Uint8Array> {
  try {
    return resizeToModel(await decodeForModel(endpoint, file, spec, decodeInBrowser), spec);
  } catch (e) {
    if (e instanceof DecodeFailure) throw new WidgetError("not-an-image", e.message);
    throw e;
  }
}

/** Decodes an image file with the browser's decoder (EXIF orientation applied) to RGBA pixels. */
export async function decodeInBrowser(file: Blob): Promise<Pixels> {
  let bitmap: ImageBitmap;
  try {
    // No colour-space conversion and no premultiplication: the raw decoded values, as sharp and the
    // Worker's decoders give them.
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image", premultiplyAlpha: "none", colorSpaceConversion: "none" });
  } catch {
    throw new WidgetError("not-an-image", "This file is not an image the browser can read. Try a JPEG, PNG or WebP photo.");
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true, colorSpace: "srgb" })!;
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height, { colorSpace: "srgb" }).data;
  const pixels: Pixels = { width: bitmap.width, height: bitmap.height, channels: 4, data };
  bitmap.close();
  return pixels;
}

/** Whether this browser can do the model's preprocessing itself (else the file itself is sent). */
export function canPreprocessLocally(p: PreprocessSpec): boolean {
  return p.crop === "center" && p.resize === "area" && typeof OffscreenCanvas !== "undefined" && typeof createImageBitmap !== "undefined";
}

export async function classifyRemote(endpoint: string, file: Blob, info: ModelInfo, top: number, apiKey?: string, model?: string | null): Promise<Result> {
  const started = performance.now();
  const headers: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  let body: BodyInit;
  if (canPreprocessLocally(info.preprocess)) {
    const rgb = await modelInput(endpoint, file, info.preprocess);
    body = rgb as Uint8Array<ArrayBuffer>;
    headers["Content-Type"] = PIXELS_TYPE;
  } else {
    body = file;
    headers["Content-Type"] = file.type || "application/octet-stream";
  }
  const res = await request(`${modelUrls(endpoint, model).classify}?top=${top}`, { method: "POST", headers, body });
  const json = (await res.json()) as Omit<Result, "mode" | "ms">;
  return { ...json, mode: "remote", ms: performance.now() - started };
}

/** The model for local mode, downloaded once per page (and kept by the HTTP cache: its URL is versioned). */
const localModels = new Map<string, Promise<LoadedNetwork>>();

export function loadLocalModel(endpoint: string, info: ModelInfo): Promise<LoadedNetwork> {
  const url = new URL(info.file, `${endpoint}/`).href;
  let model = localModels.get(url);
  if (!model) {
    model = Promise.all([request(url, {}), loadKernelsModule(endpoint)]).then(async ([res, kernelsModule]) => {
      const loaded = loadNetwork(new Uint8Array(await res.arrayBuffer()), { kernels: bestKernels(kernelsModule) });
      loaded.net.freeze(); // weights into Wasm memory once: each image then costs a fraction of a millisecond
      return loaded;
    });
    model.catch(() => localModels.delete(url));
    localModels.set(url, model);
  }
  return model;
}

/** The Wasm SIMD kernels from the Worker; null (-> the TypeScript kernels) where Wasm or the file is missing. */
async function loadKernelsModule(endpoint: string): Promise<WebAssembly.Module | null> {
  try {
    const res = await fetch(`${endpoint}/widget/kernels.wasm`);
    return res.ok ? await WebAssembly.compile(await res.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

export async function classifyLocal(endpoint: string, file: Blob, info: ModelInfo, top: number): Promise<Result> {
  const started = performance.now();
  const { net, meta } = await loadLocalModel(endpoint, info);
  const t0 = performance.now();
  const rgb = await modelInput(endpoint, file, meta.preprocess);
  const t1 = performance.now();
  const logits = forwardViews(net, 1, () => rgb, meta.preprocess, defaultViews(meta.preprocess)); // the Worker's views
  const predictions = rankPredictions(logits, meta.labels, top);
  const t2 = performance.now();
  return {
    model: { name: meta.name, version: meta.version, sha256: info.sha256 },
    predictions, mode: "local", kernels: net.kernels.name, ms: performance.now() - started,
    timing: { decode_ms: t1 - t0, infer_ms: t2 - t1 },
  };
}

/** fetch with the API's JSON errors and network failures turned into visitor-friendly WidgetErrors. */
async function request(url: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch {
    throw new WidgetError("unreachable", "The classifier server could not be reached. Check your connection and try again.");
  }
  if (res.ok) return res;
  let message = "";
  try { message = ((await res.json()) as { error?: { message?: string } }).error?.message ?? ""; } catch { /* not JSON */ }
  switch (res.status) {
    case 413: throw new WidgetError("too-large", "This image is too large to upload. Try a smaller photo.");
    case 415: case 400: case 422: throw new WidgetError("not-an-image", message || "This file could not be read as an image.");
    case 429: throw new WidgetError("rate-limited", "Too many requests right now. Wait a moment and try again.");
    case 401: throw new WidgetError("unauthorized", "The classifier refused the request: the API key is missing or wrong.");
    default: throw new WidgetError("server", `The classifier had a problem (${res.status}${message ? `: ${message}` : ""}). Try again later.`);
  }
}
