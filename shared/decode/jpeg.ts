// The JPEG decoder every place that classifies runs: libjpeg-turbo compiled to Wasm
// (./jpeg/decoder.c, built to ./jpeg.wasm by `npm run build:decoders`). It decodes at 1, 1/2, 1/4 or
// 1/8 of the stored size in the DCT domain, so the same bytes give the same pixels in Node, workerd
// and browsers, bit for bit. Each runtime supplies the compiled module (workerd refuses to compile
// Wasm from bytes: it imports jpeg.wasm as a CompiledWasm module; Node reads the file; a browser
// fetches it). No node:* imports: this file runs unchanged in all three.
//
// libjpeg's error exit calls the host, which throws out of Wasm without unwinding libjpeg's stack
// pointer or freeing its allocations, so an instance that failed is dropped and the next decode gets
// a fresh one. So is an instance whose memory grew large (Wasm memory never shrinks; a progressive
// JPEG holds all its coefficients, about 3 bytes per stored pixel for 4:2:0).

import type { Pixels } from "../preprocess.ts";
import type { ScaleDenom } from "./scale.ts";

/** libjpeg refused the data (corrupt, unsupported variant, ...); the message is libjpeg's own. */
export class JpegDecodeError extends Error {
  override name = "JpegDecodeError";
}

interface Exports {
  memory: WebAssembly.Memory;
  jd_malloc(n: number): number;
  jd_free(p: number): void;
  jd_decode(data: number, length: number, scaleDenom: number, info: number): number;
}

/**
 * An instance whose memory grew beyond this is replaced after the decode, returning its memory. Below
 * it the memory is kept and reused: a 12 MP progressive JPEG needs about 40 MiB, and keeping that one
 * buffer costs less than a new one per request waiting for the garbage collector.
 */
const KEEP_MEMORY_BYTES = 64 * 1024 * 1024;

export class JpegDecoder {
  private exports: Exports | undefined;
  constructor(private readonly module: WebAssembly.Module) {}

  /**
   * Decodes `bytes` at 1/scaleDenom: RGB (3 channels), or 1 grey channel for a greyscale JPEG;
   * CMYK/YCCK converted to RGB. Not oriented (apply the EXIF orientation afterwards).
   */
  decode(bytes: Uint8Array, scaleDenom: ScaleDenom = 1): Pixels {
    const ex = (this.exports ??= this.instantiate());
    try {
      const data = ex.jd_malloc(bytes.length), info = ex.jd_malloc(16);
      if (!data || !info) throw new JpegDecodeError("out of memory for the compressed image");
      new Uint8Array(ex.memory.buffer, data, bytes.length).set(bytes);
      const out = ex.jd_decode(data, bytes.length, scaleDenom, info);
      const [width, height, channels] = new Int32Array(ex.memory.buffer, info, 3);
      const pixels = new Uint8Array(ex.memory.buffer, out, width * height * channels).slice();
      ex.jd_free(out); ex.jd_free(info); ex.jd_free(data);
      if (ex.memory.buffer.byteLength > KEEP_MEMORY_BYTES) this.exports = undefined;
      return { width, height, channels: channels as 1 | 3, data: pixels };
    } catch (e) {
      this.exports = undefined;
      if (e instanceof JpegDecodeError) throw e;
      // A trap (e.g. memory exhausted) or anything else thrown from inside Wasm.
      throw new JpegDecodeError(e instanceof Error ? e.message : String(e));
    }
  }

  private instantiate(): Exports {
    let memory: WebAssembly.Memory | undefined;
    const cString = (p: number): string => {
      const heap = new Uint8Array(memory!.buffer);
      let end = p;
      while (heap[end] !== 0 && end - p < 400) end++;
      return String.fromCharCode(...heap.subarray(p, end));
    };
    // wasi-libc links stdio for libjpeg's default message printer, which decoder.c replaces; these
    // imports are never called, and throw if they ever are.
    const unused = (): never => { throw new JpegDecodeError("the JPEG decoder called an unavailable system function"); };
    const instance = new WebAssembly.Instance(this.module, {
      env: { jd_error: (p: number): never => { throw new JpegDecodeError(cString(p)); } },
      wasi_snapshot_preview1: { fd_close: unused, fd_seek: unused, fd_write: unused, proc_exit: unused },
    });
    const ex = instance.exports as unknown as Exports;
    memory = ex.memory;
    return ex;
  }
}
