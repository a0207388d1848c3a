// openUpload reads bodies through a BYOB reader where it can (workerd's readAtLeast fills a buffer in a
// few calls) and a default reader otherwise; both must hand back exactly the bytes sent, whatever the
// piece sizes, with or without Content-Length, and refuse a body over the limit.

import { describe, expect, it } from "vitest";
import { ApiError } from "../../edge/errors.ts";
import { openUpload } from "../../edge/limits.ts";

const noise = (n: number): Uint8Array => {
  const out = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
};
const BODY = noise(3 * 1024 * 1024 + 777); // past the 1 MiB first buffer twice, and not a round size

/** A stream of `bytes` in `piece`-sized chunks: a byte stream (BYOB-readable) or a default one. */
function streamOf(bytes: Uint8Array, piece: number, type?: "bytes"): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    type,
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        (controller as ReadableByteStreamController).byobRequest?.respond(0);
      } else controller.enqueue(bytes.slice(at, (at += piece)));
    },
  } as UnderlyingByteSource);
}

const post = (body: BodyInit, length?: number): Request =>
  new Request("http://x/", { method: "POST", body, headers: length === undefined ? {} : { "content-length": String(length) }, duplex: "half" } as RequestInit);

const sources: Array<[string, () => Request]> = [
  ["bytes with Content-Length", () => post(BODY)],
  ["a byte stream in 4 KiB pieces, no Content-Length", () => post(streamOf(BODY, 4096, "bytes"))],
  ["a default stream in 1000-byte pieces, no Content-Length", () => post(streamOf(BODY, 1000))],
  ["a default stream in one piece", () => post(streamOf(BODY, BODY.length))],
];

describe("openUpload", () => {
  for (const [name, request] of sources) {
    it(`all(): ${name} comes back byte for byte`, async () => {
      const upload = await openUpload(request(), 32 * 1024 * 1024);
      expect(upload.head.length).toBeGreaterThanOrEqual(64);
      expect(upload.head.every((b, i) => b === BODY[i])).toBe(true); // not toEqual: slow on megabytes
      const all = await upload.all();
      expect(all.length).toBe(BODY.length);
      expect(all.every((b, i) => b === BODY[i])).toBe(true);
    });

    it(`stream(): ${name} comes back byte for byte`, async () => {
      const upload = await openUpload(request(), 32 * 1024 * 1024);
      const pieces: Uint8Array[] = [];
      for await (const piece of upload.stream()) pieces.push(piece.slice());
      const joined = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
      pieces.reduce((at, p) => (joined.set(p, at), at + p.length), 0);
      expect(joined.length).toBe(BODY.length);
      expect(joined.every((b, i) => b === BODY[i])).toBe(true);
    });

    it(`refuses ${name} one byte over the limit with 413`, async () => {
      const error = await openUpload(request(), BODY.length - 1).then((u) => u.all()).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(413);
    });
  }

  it("a body shorter than its head read, and an empty one", async () => {
    expect(await (await openUpload(post(BODY.slice(0, 10)), 1000)).all()).toEqual(BODY.slice(0, 10));
    expect(await (await openUpload(post(streamOf(BODY.slice(0, 10), 3, "bytes")), 1000)).all()).toEqual(BODY.slice(0, 10));
    const empty = await openUpload(post(new Uint8Array(0)), 1000);
    expect(empty.head.length).toBe(0);
    expect((await empty.all()).length).toBe(0);
  });
});
