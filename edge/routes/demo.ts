// GET / (the demo page), GET /widget.js (the embeddable widget, built from edge/widget by
// edge/widget/build.mjs), GET /widget/kernels.wasm (the CNN kernels for its local mode), GET
// /widget/jpeg.wasm and /widget/webp.wasm (the shared decoders it decodes with) and GET /samples/NAME
// (the demo's sample images).

import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { demoPage } from "../demo/page.ts";
import { SAMPLES } from "../demo/samples.ts";
import { ApiError } from "../errors.ts";
import widgetJs from "../widget/dist/widget-bundle.ts";
import jpegWasmBase64 from "../widget/dist/jpeg-wasm.ts";
import kernelsWasmBase64 from "../widget/dist/kernels-wasm.ts";
import webpWasmBase64 from "../widget/dist/webp-wasm.ts";

const kernelsWasm = Uint8Array.from(atob(kernelsWasmBase64), (c) => c.charCodeAt(0));
const jpegWasm = Uint8Array.from(atob(jpegWasmBase64), (c) => c.charCodeAt(0));
const webpWasm = Uint8Array.from(atob(webpWasmBase64), (c) => c.charCodeAt(0));
const WASM_HEADERS = { "Content-Type": "application/wasm", "Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*" };
const sampleBytes = new Map(SAMPLES.map((s) => [s.name, { type: s.type, bytes: Uint8Array.from(atob(s.base64), (c) => c.charCodeAt(0)) }]));

export const demoRoutes = new Hono<AppEnv>()
  .get("/", (c) => c.html(demoPage(c.var.model, new URL(c.req.url).origin)))
  .get("/widget.js", (c) => c.body(widgetJs, 200, {
    "Content-Type": "text/javascript; charset=utf-8",
    // Short cache: a new deploy should reach pages within minutes; CORS so any site can load it.
    "Cache-Control": "public, max-age=300",
    "Access-Control-Allow-Origin": "*",
  }))
  // The Wasm SIMD kernels for the widget's local mode (a browser may compile Wasm from bytes).
  .get("/widget/kernels.wasm", (c) => c.body(kernelsWasm as Uint8Array<ArrayBuffer>, 200, WASM_HEADERS))
  .get("/widget/jpeg.wasm", (c) => c.body(jpegWasm as Uint8Array<ArrayBuffer>, 200, WASM_HEADERS))
  .get("/widget/webp.wasm", (c) => c.body(webpWasm as Uint8Array<ArrayBuffer>, 200, WASM_HEADERS))
  .get("/samples/:name", (c) => {
    const s = sampleBytes.get(c.req.param("name"));
    if (!s) throw new ApiError(404, "not_found", `There is no sample ${c.req.param("name")}.`);
    return c.body(s.bytes as Uint8Array<ArrayBuffer>, 200, { "Content-Type": s.type, "Cache-Control": "public, max-age=86400" });
  });
