// Size limits, enforced before the expensive work: the body is counted while it streams in (so an
// oversized upload is refused without buffering it), and the image size is read from its header
// (so a decompression bomb is refused without decoding it).

import { ApiError } from "./errors.ts";

/**
 * Reads the whole body, refusing it (413) as soon as it passes `maxBytes`. With a Content-Length the
 * chunks are copied into one buffer as they arrive, so a 20 MB photo costs 20 MB, not twice that.
 */
export async function readBodyWithLimit(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(`${mib(Number(declared))}`, maxBytes);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const expected = declared !== null && /^\d+$/.test(declared) ? Number(declared) : -1;
  let body = expected >= 0 ? new Uint8Array(expected) : undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      await reader.cancel();
      throw tooLarge(`more than ${mib(maxBytes)}`, maxBytes);
    }
    if (body && size + value.byteLength <= body.length) body.set(value, size);
    else {
      if (body) { chunks.push(body.subarray(0, size)); body = undefined; } // longer than declared: collect
      chunks.push(value);
    }
    size += value.byteLength;
  }
  if (body) return size === body.length ? body : body.subarray(0, size);
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}

/** 422 when width x height is over the limit (checked from the header, before decoding). */
export function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new ApiError(422, "image_too_large",
      `The image is ${width}x${height} = ${megapixels(width * height)}, over this server's limit of ${megapixels(maxPixels)}. ` +
      "Downscale it first (the model only sees a small thumbnail), or send the pre-processed pixels.");
  }
}

function tooLarge(what: string, maxBytes: number): ApiError {
  return new ApiError(413, "payload_too_large",
    `The upload is ${what}, over this server's limit of ${mib(maxBytes)}. Send a smaller image (downscale or recompress it).`);
}

function mib(n: number): string {
  return n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(2)} MiB` : `${n} bytes`;
}

function megapixels(n: number): string {
  return `${+(n / 1e6).toFixed(2)} megapixels`;
}
