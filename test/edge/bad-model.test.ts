// A bad model file fails loudly: the first request (and every one after it) to a route that needs
// the model is a 500 whose message is the ModelFormatError's, so the operator sees what is wrong.

import { describe, expect, it } from "vitest";
import { modelLoader } from "../../edge/model.ts";
import { JPEG, errorOf, tinyApp, tinyModelBytes } from "./helpers.ts";

const good = tinyModelBytes();

const badModels: Array<[string, Uint8Array, RegExp]> = [
  ["an empty file", new Uint8Array(0), /model file is truncated: it has 0 bytes/],
  ["a PNG image", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0]), /not an edge-cnn model file.*it is a PNG image/],
  ["a Git LFS pointer", new TextEncoder().encode("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 643984\n"), /git lfs pull/],
  ["a truncated file", good.subarray(0, good.length - 100), /model file is truncated/],
  ["a corrupted byte", good.map((b, i) => (i === 500 ? b ^ 0xff : b)), /model file is corrupted: its CRC-32 checksum/],
  ["a newer format version", (() => { const b = good.slice(); b[4] = 9; return b; })(), /format version 9 is newer/],
];

describe("a bad model file", () => {
  for (const [name, bytes, message] of badModels) {
    it(`${name}: every model route is a 500 naming the problem`, async () => {
      const app = tinyApp({ modelBytes: bytes });
      const requests: Array<[string, RequestInit]> = [
        ["/health", {}],
        ["/v1/model", {}],
        ["/v1/model.bin", {}],
        ["/v1/classify", { method: "POST", body: JPEG }],
        ["/health", {}], // the same error again: decoded once, remembered
      ];
      for (const [path, init] of requests) {
        const res = await app.request(path, init);
        expect(res.status, path).toBe(500);
        const error = await errorOf(res);
        expect(error.code).toBe("model_invalid");
        expect(error.message).toMatch(/^The model file bundled with this Worker cannot be used: /);
        expect(error.message).toMatch(message);
      }
    });
  }

  it("still answers 404 for unknown paths", async () => {
    const res = await tinyApp({ modelBytes: new Uint8Array(3) }).request("/nope");
    expect(res.status).toBe(404);
  });
});

describe("modelLoader", () => {
  it("decodes once and hands every request the same model (or the same error)", async () => {
    const load = modelLoader(good);
    expect(load()).toBe(load());
    const model = await load();
    expect(model.meta.name).toBe("tiny");
    expect(model.bytes).toEqual(good);
    const broken = modelLoader(new Uint8Array(3));
    expect(broken()).toBe(broken());
    await expect(broken()).rejects.toThrow(/truncated/);
  });
});
