// Size limits, enforced before the expensive work: the body is counted while it streams in (so an
// oversized upload is refused without buffering it), and the image size is read from its header
// (so a decompression bomb is refused without decoding it).

import { ApiError } from "./errors.ts";

/**
 * A request body being read, refused (413) as soon as it passes `maxBytes`. `head` holds its first
 * bytes (at least `headBytes` of them, unless the body is shorter) for a look at the format; then
 * either `all()` reads the whole body, or `stream()` hands it on piece by piece, head first.
 */
export interface Upload {
  head: Uint8Array;
  all(): Promise<Uint8Array>;
  stream(): AsyncGenerator<Uint8Array>;
}

export async function openUpload(req: Request, maxBytes: number, headBytes = 64): Promise<Upload> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(`${mib(Number(declared))}`, maxBytes);
  const expected = declared !== null && /^\d+$/.test(declared) ? Number(declared) : -1;
  const reader = req.body?.getReader();
  let size = 0, done = !reader;
  const next = async (): Promise<Uint8Array | null> => {
    if (done) return null;
    const r = await reader!.read();
    if (r.done) { done = true; return null; }
    if (size + r.value.byteLength > maxBytes) {
      done = true;
      await reader!.cancel();
      throw tooLarge(`more than ${mib(maxBytes)}`, maxBytes);
    }
    size += r.value.byteLength;
    return r.value;
  };
  const first: Uint8Array[] = [];
  for (let got = 0; got < headBytes;) {
    const piece = await next();
    if (!piece) break;
    first.push(piece);
    got += piece.byteLength;
  }
  return {
    head: join(first, first.reduce((n, p) => n + p.byteLength, 0)),
    /** With a Content-Length the pieces are copied into one buffer as they arrive, so a 20 MB photo costs 20 MB, not twice that. */
    async all() {
      let body = expected >= 0 ? new Uint8Array(expected) : undefined;
      const pieces: Uint8Array[] = [];
      let at = 0;
      const add = (piece: Uint8Array): void => {
        if (body && at + piece.byteLength <= body.length) body.set(piece, at);
        else {
          if (body) { pieces.push(body.subarray(0, at)); body = undefined; } // longer than declared: collect
          pieces.push(piece);
        }
        at += piece.byteLength;
      };
      first.forEach(add);
      for (let piece = await next(); piece; piece = await next()) add(piece);
      if (body) return at === body.length ? body : body.subarray(0, at);
      return join(pieces, at);
    },
    async *stream() {
      yield* first;
      for (let piece = await next(); piece; piece = await next()) yield piece;
    },
  };
}

function join(pieces: Uint8Array[], size: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const all = new Uint8Array(size);
  let at = 0;
  for (const piece of pieces) {
    all.set(piece, at);
    at += piece.byteLength;
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
