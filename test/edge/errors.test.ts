// Every client mistake gets a JSON error with the right status and a message that says what was
// wrong and what to do; none produces a 500. Each case names the input and the error the user sees.

import { describe, expect, it } from "vitest";
import { PIXELS_CONTENT_TYPE } from "../../edge/routes/classify.ts";
import { bombJpeg, bombPng, bombWebp } from "../fixtures/bombs.ts";
import { FIXTURES, JPEG, PNG, WEBP, classify, errorOf, form, tinyApp } from "./helpers.ts";

const app = tinyApp();
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

/** `bytes` with `count` bytes from `at` replaced by `value`. */
function damage(bytes: Uint8Array, at: number, count: number, value = 0x00): Uint8Array {
  const out = bytes.slice();
  out.fill(value, at, at + count);
  return out;
}

/** A JPEG whose first Huffman table (DHT segment) is overwritten with 0xFF: libjpeg's error exit. */
function withBogusHuffmanTable(jpeg: Uint8Array): Uint8Array {
  for (let i = 2; i + 1 < jpeg.length; i++) if (jpeg[i] === 0xff && jpeg[i + 1] === 0xc4) return damage(jpeg, i + 5, 15, 0xff);
  throw new Error("no DHT segment");
}

interface Case {
  name: string;
  body: BodyInit | null;
  headers?: Record<string, string>;
  query?: string;
  status: number;
  code: string;
  message: RegExp;
}

const cases: Case[] = [
  // 400: nothing to classify
  { name: "no body", body: null, status: 400, code: "empty_body", message: /has no image/ },
  { name: "an empty body", body: new Uint8Array(0), headers: { "Content-Type": "image/jpeg" }, status: 400, code: "empty_body", message: /has no image/ },
  { name: "multipart with an empty file", body: form({ image: new Uint8Array(0) }), status: 400, code: "empty_body", message: /has no image/ },
  { name: "empty pixel upload", body: new Uint8Array(0), headers: { "Content-Type": PIXELS_CONTENT_TYPE }, status: 400, code: "empty_body", message: /has no image/ },
  // 400: damaged images
  { name: "a JPEG cut in half", body: JPEG.subarray(0, JPEG.length >> 1), status: 400, code: "bad_image", message: /JPEG image is truncated.*complete file/ },
  { name: "a JPEG cut inside its header", body: JPEG.subarray(0, 300), status: 400, code: "bad_image", message: /corrupt or truncated.*truncated/ },
  { name: "a JPEG missing its last byte", body: JPEG.subarray(0, JPEG.length - 1), status: 400, code: "bad_image", message: /truncated/ },
  { name: "a JPEG with a damaged frame header", body: bombJpeg(64, 64).map((b, i) => (i === 13 ? 9 : b)), status: 400, code: "bad_image", message: /JPEG image is corrupt and cannot be decoded.*intact/ },
  { name: "a PNG cut in half", body: PNG.subarray(0, PNG.length >> 1), status: 400, code: "bad_image", message: /PNG image is corrupt/ },
  { name: "a PNG with zeroed compressed data", body: damage(PNG, 200, 2000), status: 400, code: "bad_image", message: /PNG image is corrupt/ },
  { name: "a PNG whose IHDR claims a small size but has no data", body: bombPng(8, 8), status: 400, code: "bad_image", message: /PNG image is corrupt/ },
  { name: "a WebP cut in half", body: WEBP.subarray(0, WEBP.length >> 1), status: 400, code: "bad_image", message: /WebP image is corrupt/ },
  { name: "a WebP with a zeroed frame tag", body: damage(WEBP, 20, 3), status: 400, code: "bad_image", message: /WebP image is corrupt/ },
  { name: "a WebP VP8X header with no image", body: bombWebp(10, 10), status: 400, code: "bad_image", message: /WebP image is corrupt/ },
  { name: "only a JPEG signature", body: new Uint8Array([0xff, 0xd8, 0xff]), status: 400, code: "bad_image", message: /truncated/ },
  // 400: bad top
  ...["0", "4", "-1", "1.5", "abc", "", "1e1", " 2"].map((top): Case => ({
    name: `top=${JSON.stringify(top)}`, body: JPEG, query: `top=${encodeURIComponent(top)}`, status: 400, code: "bad_top", message: /top must be a whole number from 1 to 3/,
  })),
  // 400: bad pixel uploads and forms
  { name: "pixels of the wrong size", body: new Uint8Array(32 * 32 * 3), headers: { "Content-Type": PIXELS_CONTENT_TYPE }, status: 400, code: "bad_pixels", message: /exactly 16x16x3 = 768 bytes.*got 3072/ },
  { name: "a form without an image field", body: form({ file: JPEG, note: "x" }), status: 400, code: "missing_image", message: /no field "image" \(it has "file", "note"\)/ },
  { name: "a form whose image field is text", body: form({ image: "cat.jpg" }), status: 400, code: "missing_image", message: /is text, not a file/ },
  { name: "a multipart body that does not parse", body: ascii("--nope\r\n\r\nxx"), headers: { "Content-Type": "multipart/form-data; boundary=abc" }, status: 400, code: "bad_multipart", message: /cannot be parsed/ },
  { name: "multipart without a boundary", body: ascii("anything"), headers: { "Content-Type": "multipart/form-data" }, status: 400, code: "bad_multipart", message: /cannot be parsed/ },
  // 415: not an image we decode, named
  { name: "a GIF", body: ascii("GIF89a\x01\x00\x01\x00\x80\x00\x00"), headers: { "Content-Type": "image/jpeg" }, status: 415, code: "unsupported_media_type", message: /is GIF; send a JPEG, PNG or WebP/ },
  { name: "a PDF", body: ascii("%PDF-1.7\n1 0 obj"), status: 415, code: "unsupported_media_type", message: /is PDF;/ },
  { name: "a HEIC photo", body: ascii("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), status: 415, code: "unsupported_media_type", message: /is HEIC;/ },
  { name: "an SVG", body: ascii("<svg xmlns='http://www.w3.org/2000/svg'></svg>"), headers: { "Content-Type": "image/svg+xml" }, status: 415, code: "unsupported_media_type", message: /is SVG;/ },
  { name: "text", body: ascii("hello"), headers: { "Content-Type": "image/png" }, status: 415, code: "unsupported_media_type", message: /is text; send a JPEG, PNG or WebP/ },
  { name: "JSON", body: ascii('{"image": "cat.jpg"}'), headers: { "Content-Type": "application/json" }, status: 415, code: "unsupported_media_type", message: /is JSON;/ },
  { name: "binary junk", body: new Uint8Array([0, 1, 2, 3, 250, 251]), status: 415, code: "unsupported_media_type", message: /is an unknown format \(not an image this server recognises\); send a JPEG, PNG or WebP/ },
  { name: "an animated WebP", body: bombWebp(10, 10, 0x02), status: 415, code: "unsupported_media_type", message: /animated WebP/ },
  { name: "a GIF in a form", body: form({ image: ascii("GIF87a\x01\x00\x01\x00") }), status: 415, code: "unsupported_media_type", message: /is GIF/ },
  // 422: decompression bombs, refused from the header
  { name: "a PNG claiming 100000x100000", body: bombPng(100_000, 100_000), status: 422, code: "image_too_large", message: /100000x100000 = 10000 megapixels, over this server's limit of 50 megapixels.*Downscale/ },
  { name: "a JPEG claiming 65535x65535", body: bombJpeg(65_535, 65_535), status: 422, code: "image_too_large", message: /65535x65535/ },
  { name: "a JPEG claiming 50000x50000", body: bombJpeg(50_000, 50_000), status: 422, code: "image_too_large", message: /50000x50000 = 2500 megapixels/ },
  { name: "a WebP claiming 16384x16384", body: bombWebp(16_384, 16_384), status: 422, code: "image_too_large", message: /16384x16384/ },
  { name: "a progressive 4:2:0 panorama of 65535x500 (decoded at 1/4 for this 16x16 model, where chroma keeps whole blocks: 61 MiB of coefficients)", body: bombJpeg(65_535, 500, { sof: 0xc2, sampling: [0x22, 0x11, 0x11] }), status: 422, code: "image_too_large", message: /progressive JPEG of 65535x500, whose decoding needs 61 MiB, over the 40 MiB limit; save it as a baseline JPEG or downscale it/ },
  { name: "a sequential JPEG of 65535x500 with a scan per component (its coefficients are held as a progressive one's)", body: bombJpeg(65_535, 500, { sampling: [0x22, 0x11, 0x11] }).map((b, i, all) => (i === all.indexOf(0xda) + 3 ? 1 : b)), status: 422, code: "image_too_large", message: /multi-scan JPEG of 65535x500, whose decoding needs 61 MiB/ },
  { name: "a 100000x100 PNG panorama (too thin to decode reduced: 10 MP at full size)", body: bombPng(100_000, 100), status: 422, code: "image_too_large", message: /decode it to 100000x100 pixels, over its limit of 8 megapixels/ },
  { name: "a JPEG claiming 10000x5001 (just over 50 MP)", body: bombJpeg(10_000, 5001), status: 422, code: "image_too_large", message: /10000x5001 = 50.01 megapixels/ },
];

describe("client errors on POST /v1/classify", () => {
  for (const c of cases) {
    it(`${c.name} -> ${c.status} ${c.code}`, async () => {
      const res = await classify(app, c.body, c.headers, c.query);
      expect(res.status).toBe(c.status);
      const error = await errorOf(res);
      expect(error.code).toBe(c.code);
      expect(error.message).toMatch(c.message);
    });
  }

  it("a JPEG claiming exactly 50 megapixels passes the size check (and fails as the corrupt file it is)", async () => {
    const res = await classify(app, bombJpeg(10_000, 5000));
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("bad_image");
  });

  it("MAX_PIXELS from the environment lowers the limit", async () => {
    const res = await classify(app, JPEG, {}, "", { MAX_PIXELS: "50000" }); // 320x240 = 76,800
    expect(res.status).toBe(422);
    expect((await errorOf(res)).message).toContain("320x240 = 0.08 megapixels, over this server's limit of 0.05 megapixels");
  });
});

describe("413: bodies over MAX_UPLOAD_BYTES", () => {
  const small = tinyApp({ maxUploadBytes: 4096 });

  it("is refused (Content-Length known)", async () => {
    const res = await classify(small, JPEG);
    expect(res.status).toBe(413);
    const error = await errorOf(res);
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toMatch(/over this server's limit of 4096 bytes\. Send a smaller image/);
  });

  it("is refused while streaming, without reading the rest of the body", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 100) controller.close();
        else controller.enqueue(new Uint8Array(1024));
      },
    });
    const res = await classify(small, stream);
    expect(res.status).toBe(413);
    expect((await errorOf(res)).message).toContain("more than 4096 bytes");
    expect(pulled).toBeLessThan(10); // stopped just past the limit, not after 100 KiB
  });

  it("is refused while a PNG is being decoded from the stream, with the same 413", async () => {
    let at = 0; // a valid PNG in 1000-byte pieces, no Content-Length, the limit 100 bytes short of it
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= PNG.length) controller.close();
        else controller.enqueue(PNG.slice(at, (at += 1000)));
      },
    });
    const res = await classify(tinyApp({ maxUploadBytes: PNG.length - 100 }), stream);
    expect(res.status).toBe(413);
    const error = await errorOf(res);
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toContain("more than");
  });

  it("counts the whole multipart body, and MAX_UPLOAD_BYTES from the environment sets the limit", async () => {
    expect((await classify(small, form({ image: JPEG }))).status).toBe(413);
    const res = await classify(app, JPEG, {}, "", { MAX_UPLOAD_BYTES: "1000" });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).message).toContain("limit of 1000 bytes");
  });

  it("the default limit is 32 MiB", async () => {
    const res = await classify(app, new Uint8Array(32 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
    expect((await errorOf(res)).message).toContain("limit of 32 MiB");
  });
});

describe("robustness", () => {
  it("the decoders keep working after damaged input", async () => {
    for (const bad of [JPEG.subarray(0, 400), withBogusHuffmanTable(JPEG), damage(PNG, 200, 2000), damage(WEBP, 20, 3), bombJpeg(64, 64).map((b, i) => (i === 13 ? 9 : b))]) {
      expect((await classify(app, bad)).status).toBe(400);
    }
    for (const good of [JPEG, PNG, WEBP]) expect((await classify(app, good)).status).toBe(200);
  });

  it("hundreds of corrupt JPEGs and PNGs in a row do not break the decoders (a failed Wasm instance is replaced)", async () => {
    // Before instances were replaced, libjpeg's error exit and the png crate's panic leaked Wasm stack
    // and heap on every failure, and after a few hundred every decode failed.
    const badJpeg = withBogusHuffmanTable(JPEG), badPng = damage(PNG, 200, 2000);
    for (let i = 0; i < 300; i++) {
      const res = await classify(app, i % 2 ? badJpeg : badPng);
      expect(res.status).toBe(400);
      await res.arrayBuffer();
    }
    for (const good of [JPEG, PNG, WEBP]) expect((await classify(app, good)).status).toBe(200);
  });

  it("says why libjpeg refused a JPEG", async () => {
    const error = await errorOf(await classify(app, withBogusHuffmanTable(JPEG)));
    expect(error.message).toBe("The JPEG image is corrupt and cannot be decoded (Bogus Huffman table definition). Send an intact file.");
  });

  it("no cut or damaged version of any fixture gives a 500 (only 200, 400, 415 or 422)", async () => {
    const statuses = new Set<number>();
    for (const [name, bytes] of Object.entries(FIXTURES)) {
      const variants: Uint8Array[] = [];
      for (let i = 1; i < 16; i++) variants.push(bytes.subarray(0, Math.floor((bytes.length * i) / 16)));
      for (let i = 0; i < 16; i++) variants.push(damage(bytes, Math.floor((bytes.length * i) / 16), 24, (i * 37) & 0xff));
      for (const v of variants) {
        const res = await classify(app, v);
        statuses.add(res.status);
        expect([200, 400, 415, 422], `${name} (${v.length} bytes)`).toContain(res.status);
        if (res.status !== 200) await errorOf(res);
        else await res.arrayBuffer();
      }
    }
    expect(statuses.has(400)).toBe(true);
  });

  it("a misconfigured limit is the operator's 500, naming the variable", async () => {
    const res = await classify(app, JPEG, {}, "", { MAX_UPLOAD_BYTES: "ten megabytes" });
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("misconfigured");
    expect(error.message).toContain('MAX_UPLOAD_BYTES must be a positive integer, got "ten megabytes"');
  });
});
