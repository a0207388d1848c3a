// The Worker's WebP decoder: libwebp compiled to Wasm (Squoosh, packaged by @jsquash). It decodes to
// RGBA with the same pixels as sharp. (JPEG and PNG have the shared decoders, see edge/decode.ts.)
// workerd refuses to compile Wasm from bytes, so the .wasm file is imported as an already compiled
// module (wrangler's CompiledWasm rule) and instantiated from it.
//
// A failed decode can leave a Wasm instance broken: a C error exit jumps out of Wasm without
// restoring its stack pointer or freeing what it allocated, and after a few hundred corrupt uploads
// every decode fails. So an instance that failed is replaced by a fresh one.
// So is one that decoded a large image: Wasm memory never shrinks, and dropping the instance gives
// the isolate its memory back (Workers allow 128 MB).

import decodeWebpWasm, { init as initWebp } from "@jsquash/webp/decode";
import webpModule from "@jsquash/webp/codec/dec/webp_dec.wasm";
import type { DecodableFormat } from "../shared/image-header.ts";

/** The formats decoded here (JPEG and PNG have the shared decoders). */
export type CodecFormat = Exclude<DecodableFormat, "JPEG" | "PNG">;

export interface Rgba {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** Above this many pixels, the instance that decoded the image is replaced to release its memory. */
const LARGE_IMAGE_PIXELS = 4_000_000;

type EmscriptenInit = (module: WebAssembly.Module, overrides: Record<string, unknown>) => void;

// libwebp reports why it failed on stderr; keep the last line for the error message instead of logging it.
let lastCodecMessage = "";
const emscriptenOptions = { print: () => {}, printErr: (line: string) => { lastCodecMessage = line; } };

let webpReady = false;

function reset(_format: CodecFormat): void {
  webpReady = false;
}

async function decodeWith(_format: CodecFormat, bytes: Uint8Array): Promise<Rgba> {
  // jsquash's Emscripten codecs take an ArrayBuffer; init(module) makes a fresh instance.
  // (The typings only declare init(options); the implementation takes the module first.)
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer as ArrayBuffer : bytes.slice().buffer;
  if (!webpReady) (initWebp as unknown as EmscriptenInit)(webpModule, emscriptenOptions);
  webpReady = true;
  return decodeWebpWasm(buffer);
}

/** Decodes with the format's codec. Throws a CodecError (with the codec's reason) on damaged data. */
export async function decodeRgba(format: CodecFormat, bytes: Uint8Array): Promise<Rgba> {
  lastCodecMessage = "";
  let image: Rgba;
  try {
    image = await decodeWith(format, bytes);
  } catch (e) {
    reset(format);
    throw new CodecError(reason(e));
  }
  if (image.width * image.height > LARGE_IMAGE_PIXELS) reset(format);
  return image;
}

export class CodecError extends Error {
  override name = "CodecError";
}

/** A short reason from whatever the codec threw (an Error, an Emscripten ExitStatus, a string). */
function reason(e: unknown): string {
  if (lastCodecMessage) return lastCodecMessage.trim();
  const message = typeof e === "string" ? e : (e as { message?: unknown })?.message;
  const text = typeof message === "string" ? message : "";
  if (!text || /unwrap_throw|Program terminated|Decoding error/.test(text)) return "the decoder rejected the data";
  return text.split("\n")[0].slice(0, 200);
}
