// The WebP decoder every place that classifies runs: libwebp compiled to Wasm (./webp/decoder.c,
// built to ./webp.wasm by `npm run build:decoders`), decoding at 1, 1/2, 1/4 or 1/8 of the stored
// size with libwebp's own scaling, so the same bytes give the same pixels in Node, workerd and
// browsers. Like jpeg.ts: each runtime supplies the compiled module; no node:* imports.
//
// libwebp reports errors as status codes (it never jumps out of Wasm), so an instance survives a
// failed decode; it is replaced only when its memory grew large (Wasm memory never shrinks).

import type { Pixels } from "../preprocess.ts";
import type { ScaleDenom } from "./scale.ts";

/** libwebp refused the data; the message names libwebp's status. */
export class WebpDecodeError extends Error {
  override name = "WebpDecodeError";
}

interface Exports {
  memory: WebAssembly.Memory;
  wd_malloc(n: number): number;
  wd_free(p: number): void;
  wd_decode(data: number, length: number, scaleDenom: number, info: number): number;
}

/** libwebp's VP8StatusCode values, in words. */
const STATUS = ["ok", "out of memory", "invalid parameter", "the bitstream is damaged", "an unsupported feature", "suspended", "user abort", "not enough data (the file is truncated)"];

/** An instance whose memory grew beyond this is replaced after the decode, returning its memory. */
const KEEP_MEMORY_BYTES = 32 * 1024 * 1024;

export class WebpDecoder {
  private exports: Exports | undefined;
  constructor(private readonly module: WebAssembly.Module) {}

  /** Decodes `bytes` at 1/scaleDenom to RGB, or RGBA when the file has alpha. Not oriented. */
  decode(bytes: Uint8Array, scaleDenom: ScaleDenom = 1): Pixels {
    const ex = (this.exports ??= this.instantiate());
    const data = ex.wd_malloc(bytes.length), info = ex.wd_malloc(20);
    if (!data || !info) {
      this.exports = undefined;
      throw new WebpDecodeError("out of memory for the compressed image");
    }
    new Uint8Array(ex.memory.buffer, data, bytes.length).set(bytes);
    const out = ex.wd_decode(data, bytes.length, scaleDenom, info);
    const [width, height, channels, status, animated] = new Int32Array(ex.memory.buffer, info, 5);
    const pixels = out ? new Uint8Array(ex.memory.buffer, out, width * height * channels).slice() : undefined;
    if (out) ex.wd_free(out);
    ex.wd_free(info); ex.wd_free(data);
    if (ex.memory.buffer.byteLength > KEEP_MEMORY_BYTES) this.exports = undefined;
    if (!pixels) throw new WebpDecodeError(animated ? "it is animated" : `libwebp: ${STATUS[status] ?? `status ${status}`}`);
    return { width, height, channels: channels as 3 | 4, data: pixels };
  }

  private instantiate(): Exports {
    // wasi-libc links stdio, which libwebp's decoder never calls; these throw if it ever does.
    const unused = (): never => { throw new WebpDecodeError("the WebP decoder called an unavailable system function"); };
    const instance = new WebAssembly.Instance(this.module, {
      wasi_snapshot_preview1: { fd_close: unused, fd_seek: unused, fd_write: unused },
    });
    return instance.exports as unknown as Exports;
  }
}
