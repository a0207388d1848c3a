// The model file codec: round trips per dtype, the sizes users will see, and every way a bad file
// is refused (each with its own code and a message that says what to do).

import { crc32 as zlibCrc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32 } from "../../shared/crc32.ts";
import { f16ToF32, f32ToF16 } from "../../shared/f16.ts";
import { heInit } from "../../shared/init.ts";
import {
  decodeModel, encodeModel, loadNetwork, ModelFormatError, tensorByteLength,
  type ModelDtype, type ModelFormatErrorCode, type ModelMeta,
} from "../../shared/model-file.ts";
import { Network } from "../../shared/network.ts";
import { defaultPreprocess } from "../../shared/preprocess.ts";
import { Rng } from "../../shared/rng.ts";
import { seedCnn, type ArchSpec } from "../../shared/spec.ts";

const DTYPES: ModelDtype[] = ["f32", "f16", "int8"];

/** A network with He-initialised weights and small random biases (heInit zeroes biases, which
 *  would let a broken bias encoding pass). */
function makeNet(spec: ArchSpec, seed = 7): Network {
  const net = new Network(spec);
  heInit(net.params, seed);
  const rng = new Rng(seed + 1);
  for (const p of net.params) if (p.shape.length === 1) for (let i = 0; i < p.data.length; i++) p.data[i] = 0.1 * rng.normal();
  return net;
}

function makeMeta(classes: number, size: [number, number] = [32, 32]): ModelMeta {
  return {
    name: "test-model",
    version: "1.2.3",
    labels: Array.from({ length: classes }, (_, i) => `class-${i}`),
    preprocess: defaultPreprocess(size),
    metrics: { val_accuracy: 0.75, test_accuracy: 0.74 },
    provenance: { created_at: "2025-01-01T00:00:00Z", command: "edge-cnn train --epochs 20", dataset: "cifar10", git_commit: "abc123" },
  };
}

// A tiny net whose tensors do not fill whole 4-byte words in int8 and f16 (5 x 27 weights), so
// padding is exercised, and whose file is small enough to truncate and corrupt at every byte.
const TINY: ArchSpec = {
  name: "tiny",
  input: [3, 8, 8],
  layers: [
    { type: "conv", filters: 5, size: 3, stride: 1, pad: 1 }, { type: "relu" }, { type: "pool", size: 2, stride: 2 },
    { type: "affine", units: 3 },
  ],
};
const tinyNet = makeNet(TINY);
const tinyMeta = makeMeta(3, [8, 8]);
const tinyFiles = Object.fromEntries(DTYPES.map((d) => [d, encodeModel(tinyNet, tinyMeta, d)])) as Record<ModelDtype, Uint8Array>;

const seedNet = makeNet(seedCnn(10));
const seedMeta = makeMeta(10);
const seedFiles = Object.fromEntries(DTYPES.map((d) => [d, encodeModel(seedNet, seedMeta, d)])) as Record<ModelDtype, Uint8Array>;

/** Runs fn and returns the ModelFormatError it throws (fails the test on anything else). */
function formatError(fn: () => unknown): ModelFormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelFormatError) return e;
    throw new Error(`expected a ModelFormatError, got ${String(e)}`);
  }
  throw new Error("expected a ModelFormatError, but nothing was thrown");
}

function expectError(fn: () => unknown, code: ModelFormatErrorCode, message: string | RegExp): ModelFormatError {
  const e = formatError(fn);
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
  return e;
}

/** Splits a file into its header object and tensor data. */
function split(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const H = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + H))), data: bytes.slice(12 + H, bytes.length - 4) };
}

/** Builds a file with a valid checksum from a header (object or raw JSON text) and tensor data, as
 *  another writer might: only the reader's own checks can catch what is wrong with it. */
function assemble(header: object | string | Uint8Array, data: Uint8Array, version = 1): Uint8Array {
  const json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const H = (json.length + 3) & ~3;
  const out = new Uint8Array(12 + H + data.length + 4);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode("ECNN"));
  dv.setUint16(4, version, true);
  dv.setUint32(8, H, true);
  out.fill(0x20, 12, 12 + H);
  out.set(json, 12);
  out.set(data, 12 + H);
  dv.setUint32(out.length - 4, zlibCrc32(out.subarray(0, out.length - 4)) >>> 0, true);
  return out;
}

/** Rewrites the header of `bytes` (checksum recomputed). */
function withHeader(bytes: Uint8Array, mutate: (h: Record<string, any>) => void): Uint8Array {
  const { header, data } = split(bytes);
  mutate(header);
  return assemble(header, data);
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Expects a and b to hold the same float32 bit patterns (a loop: toEqual is slow on 500k values). */
function expectSameBits(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  const x = bits(a), y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) expect.fail(`${what}[${i}]: ${b[i]} came back as ${a[i]}`);
}

describe("crc32", () => {
  it("matches the standard check value and zlib", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const data = new Uint8Array(10_000).map((_, i) => (i * 2654435761) >>> 24);
    expect(crc32(data)).toBe(zlibCrc32(data) >>> 0);
    expect(crc32(data.subarray(5001), crc32(data.subarray(0, 5001)))).toBe(crc32(data)); // continuation
    for (let len = 0; len < 24; len++) expect(crc32(data.subarray(3, 3 + len))).toBe(zlibCrc32(data.subarray(3, 3 + len)) >>> 0);
  });
});

describe("f16", () => {
  it("round-trips every half bit pattern", () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16ToF32(h);
      if (Number.isNaN(v)) expect(Number.isNaN(f16ToF32(f32ToF16(v)))).toBe(true);
      else if (f32ToF16(v) !== h) expect.fail(`half 0x${h.toString(16)} = ${v} came back as 0x${f32ToF16(v).toString(16)}`);
    }
  });

  it("rounds to nearest, ties to even, and handles the edges", () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519)).toBe(0x7bff); // just below the tie with 65536
    expect(f32ToF16(65520)).toBe(0x7c00); // tie: rounds to even, which is Infinity
    expect(f32ToF16(1e10)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(f16ToF32(f32ToF16(NaN)))).toBe(true);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1+2^-10: even is 1
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: even is 1+2^-9
    expect(f32ToF16(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie with 0: even is 0
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 subnormal steps: even is 2
    expect(f32ToF16(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up out of the subnormals
    expect(f32ToF16(1e-30)).toBe(0);
  });

  it("picks the nearest half for random floats", () => {
    const rng = new Rng(3);
    const buf = new Float32Array(1), u = new Uint32Array(buf.buffer);
    for (let k = 0; k < 100_000; k++) {
      u[0] = rng.nextU32();
      const x = buf[0];
      if (!Number.isFinite(x) || Math.abs(x) >= 65520) continue;
      const h = f32ToF16(x), err = Math.abs(x - f16ToF32(h));
      for (const nb of [h - 1, h + 1]) {
        if ((nb & 0x7fff) > 0x7bff || nb < 0 || (nb & 0x8000) !== (h & 0x8000)) continue;
        const other = Math.abs(x - f16ToF32(nb));
        if (other < err || (other === err && (h & 1))) expect.fail(`${x} -> 0x${h.toString(16)}, but 0x${nb.toString(16)} is nearer or even`);
      }
    }
  });
});

describe("model file round trip", () => {
  it("f32 is bit-exact, with the metadata and spec intact", () => {
    const model = decodeModel(seedFiles.f32);
    expect(model.dtype).toBe("f32");
    expect(model.meta).toEqual(seedMeta);
    expect(model.spec).toEqual(seedNet.spec);
    expect(model.byteLength).toBe(seedFiles.f32.length);
    expect(model.tensors.map((t) => t.name)).toEqual(seedNet.params.map((p) => p.name));
    model.tensors.forEach((t, i) => {
      expect(t.shape).toEqual(seedNet.params[i].shape);
      expectSameBits(t.data, seedNet.params[i].data, t.name);
    });
  });

  it("f16 stores weights as f16 within half an ulp, biases as exact f32", () => {
    const model = decodeModel(seedFiles.f16);
    expect(model.dtype).toBe("f16");
    model.tensors.forEach((t, i) => {
      const w = seedNet.params[i].data;
      if (t.shape.length === 1) {
        expect(t.dtype).toBe("f32");
        expectSameBits(t.data, w, t.name);
        return;
      }
      expect(t.dtype).toBe("f16");
      for (let j = 0; j < w.length; j++) {
        // Relative error 2^-11 for normal halves, absolute 2^-25 in the subnormal range.
        if (!(Math.abs(w[j] - t.data[j]) <= Math.abs(w[j]) * 2 ** -11 + 2 ** -25)) {
          expect.fail(`${t.name}[${j}]: ${w[j]} came back as ${t.data[j]}`);
        }
      }
    });
  });

  it("int8 keeps each weight within half a step of its channel's scale, biases exact", () => {
    const model = decodeModel(seedFiles.int8);
    expect(model.dtype).toBe("int8");
    model.tensors.forEach((t, i) => {
      const w = seedNet.params[i].data;
      if (t.shape.length === 1) {
        expect(t.dtype).toBe("f32");
        expectSameBits(t.data, w, t.name);
        return;
      }
      expect(t.dtype).toBe("int8");
      const channels = t.shape[0], per = w.length / channels;
      for (let c = 0; c < channels; c++) {
        let maxabs = 0;
        for (let j = c * per; j < (c + 1) * per; j++) maxabs = Math.max(maxabs, Math.abs(w[j]));
        const scale = maxabs / 127;
        for (let j = c * per; j < (c + 1) * per; j++) {
          if (!(Math.abs(w[j] - t.data[j]) <= scale / 2 + 1e-6 * scale)) {
            expect.fail(`${t.name}[${j}] (channel ${c}, scale ${scale}): ${w[j]} came back as ${t.data[j]}`);
          }
        }
      }
    });
  });

  it("int8 keeps an all-zero channel zero", () => {
    const net = makeNet(TINY);
    net.param("conv1.weight").data.fill(0, 0, 27); // channel 0
    const t = decodeModel(encodeModel(net, tinyMeta, "int8")).tensors[0];
    expect(Array.from(t.data.subarray(0, 27)).every((v) => v === 0)).toBe(true);
    expect(t.data.subarray(27)).not.toEqual(new Float32Array(27 * 4));
  });

  it("loadNetwork gives the same logits: exact for f32, close for f16 and int8", () => {
    const n = 8, rng = new Rng(11);
    const x = Float32Array.from({ length: n * 3 * 32 * 32 }, () => rng.uniform());
    const want = Float32Array.from(seedNet.forward(x, n));
    const scale = Math.max(...want.map(Math.abs));
    const worst: Record<string, number> = {};
    for (const d of DTYPES) {
      const { net, meta, dtype } = loadNetwork(seedFiles[d]);
      expect(meta.labels).toEqual(seedMeta.labels);
      expect(dtype).toBe(d);
      const got = net.forward(x, n);
      if (d === "f32") {
        expectSameBits(got, want, "f32 logits");
        continue;
      }
      worst[d] = Math.max(...got.map((v, i) => Math.abs(v - want[i]))) / scale;
      // f16 is close enough that the top class does not change on these inputs. (int8 is not
      // checked: with random weights, top classes can be closer than its error.)
      for (let i = 0; d === "f16" && i < n; i++) {
        const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));
        expect(argmax(got.subarray(i * 10, i * 10 + 10))).toBe(argmax(want.subarray(i * 10, i * 10 + 10)));
      }
    }
    console.log(`max |logit error| / max |logit|: f16 ${worst.f16.toExponential(2)}, int8 ${worst.int8.toExponential(2)}`);
    expect(worst.f16).toBeLessThan(2e-3);
    expect(worst.int8).toBeLessThan(5e-2);
  });

  it("re-encoding a loaded model in its own dtype gives the same bytes (export is lossless)", () => {
    for (const d of DTYPES) {
      const { net, meta } = loadNetwork(seedFiles[d]);
      const again = encodeModel(net, meta, d);
      expect(again.length).toBe(seedFiles[d].length);
      expect(again.every((b, i) => b === seedFiles[d][i]), d).toBe(true);
    }
  });

  it("accepts an ArrayBuffer and a Uint8Array at an unaligned offset", () => {
    const file = tinyFiles.int8;
    expect(decodeModel(file.slice().buffer).tensors[0].data).toEqual(decodeModel(file).tensors[0].data);
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    expect(decodeModel(big.subarray(3)).tensors[2].data).toEqual(decodeModel(file).tensors[2].data);
  });

  it("writes the documented layout", () => {
    const file = tinyFiles.f32, dv = new DataView(file.buffer);
    expect(new TextDecoder().decode(file.subarray(0, 4))).toBe("ECNN");
    expect(dv.getUint16(4, true)).toBe(1);
    expect(dv.getUint16(6, true)).toBe(0);
    const H = dv.getUint32(8, true);
    expect((12 + H) % 4).toBe(0);
    const { header } = split(file);
    expect(Object.keys(header)).toEqual(["name", "version", "arch", "labels", "preprocess", "dtype", "metrics", "provenance", "tensors"]);
    expect(header.tensors[0]).toEqual({ name: "conv1.weight", shape: [5, 3, 3, 3], dtype: "f32", offset: 0, length: 540 });
    expect(dv.getUint32(file.length - 4, true)).toBe(zlibCrc32(file.subarray(0, file.length - 4)) >>> 0);
    // Tensors are 4-byte aligned with zero padding between them (here in int8: 5*4 + 135 = 155 bytes).
    const int8 = split(tinyFiles.int8);
    expect(int8.header.tensors.map((t: { offset: number }) => t.offset)).toEqual([0, 156, 176, 428]);
    expect(int8.data[155]).toBe(0);
    expect(split(withHeader(tinyFiles.f32, (h) => { h.preview = true; })).header.preview).toBe(true);
  });
});

describe("model file sizes (seed-cnn, 10 classes, 633,002 parameters)", () => {
  it("are the header plus the tensors and nothing else", () => {
    expect(seedNet.parameterCount).toBe(633_002);
    const weights = 631_728, biases = 1_274, channels = 1_274; // a weight tensor per bias tensor: same dim 0
    const data: Record<ModelDtype, number> = {
      f32: 4 * (weights + biases),                  // 2,532,008
      f16: 2 * weights + 4 * biases,                // 1,268,552
      int8: 4 * channels + weights + 4 * biases,    //   641,920 (every tensor is already a multiple of 4)
    };
    const lines: string[] = [];
    for (const d of DTYPES) {
      const file = seedFiles[d];
      const H = new DataView(file.buffer).getUint32(8, true);
      expect(file.length).toBe(12 + H + data[d] + 4);
      expect(H).toBeLessThan(4096); // the JSON header stays small
      const sum = seedNet.params.reduce((s, p) => s + tensorByteLength(p.shape, p.shape.length === 1 ? "f32" : d), 0);
      expect(sum).toBe(data[d]);
      lines.push(`${d.padEnd(4)} ${file.length.toLocaleString("en-US").padStart(9)} bytes (${(file.length / 1e6).toFixed(2)} MB; header ${H} bytes)`);
    }
    console.log(`seed-cnn 10 classes model file sizes:\n${lines.join("\n")}`);
  });
});

describe("bad model files", () => {
  const file = tinyFiles.f32;
  const H = new DataView(file.buffer).getUint32(8, true);

  it("truncated: empty, inside the fixed part, the header, the tensors, or without its checksum", () => {
    expectError(() => decodeModel(new Uint8Array(0)), "truncated", /has 0 bytes.*at least|smallest model file has 16/);
    expectError(() => decodeModel(file.subarray(0, 10)), "truncated", "has 10 bytes");
    expectError(() => decodeModel(file.subarray(0, 12 + 20)), "truncated", `needs at least ${12 + H + 4} bytes, but it has 32`);
    const cut = 12 + H + 100;
    expectError(() => decodeModel(file.subarray(0, cut)), "truncated", `expected ${file.length} bytes (header, tensors and checksum), got ${cut}`);
    expectError(() => decodeModel(file.subarray(0, file.length - 4)), "truncated", `got ${file.length - 4} (4 missing)`);
  });

  it("truncated at every length, in every dtype: always a ModelFormatError, never garbage or a RangeError", () => {
    for (const d of DTYPES) {
      const f = tinyFiles[d];
      for (let len = 0; len < f.length; len++) {
        const e = formatError(() => decodeModel(f.subarray(0, len)));
        if (e.code !== "truncated") expect.fail(`${d} cut at ${len}/${f.length}: ${e.code}: ${e.message}`);
      }
    }
  });

  it("truncated seed-cnn files (sampled lengths) say how many bytes are missing", () => {
    const f = seedFiles.int8, rng = new Rng(5);
    for (let k = 0; k < 40; k++) {
      const len = Math.floor(rng.uniform() * f.length);
      const e = formatError(() => decodeModel(f.subarray(0, len)));
      expect(e.code).toBe("truncated");
      if (len > 12 + 4096) expect(e.message).toContain(`expected ${f.length} bytes`);
    }
  });

  it("bad-magic: says it is not an edge-cnn model, and names common mix-ups", () => {
    expectError(() => decodeModel(new Uint8Array(100).fill(7)), "bad-magic", "not an edge-cnn model file");
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(40)]);
    expectError(() => decodeModel(png), "bad-magic", "PNG image");
    expectError(() => decodeModel(new TextEncoder().encode('{"name": "model", "weights": [1, 2, 3]}')), "bad-magic", "looks like JSON");
    expectError(() => decodeModel(new TextEncoder().encode("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n")), "bad-magic", "git lfs pull");
    expectError(() => decodeModel(Uint8Array.from([0x08, 0x07, 0x12, 0x07, ...new TextEncoder().encode("pytorch"), 0, 0, 0, 0, 0])), "bad-magic", "ONNX");
    expectError(() => decodeModel(new TextEncoder().encode("<!DOCTYPE html><html>404</html>")), "bad-magic", "HTML");
    expectError(() => decodeModel(new TextEncoder().encode("ECN")), "truncated", "3 bytes");
  });

  it("unsupported-version: a newer format version or unknown flags say to upgrade", () => {
    const { header, data } = split(file);
    expectError(() => decodeModel(assemble(header, data, 2)), "unsupported-version", /version 2 is newer .*version 1.*Upgrade edge-cnn/);
    const flagged = file.slice();
    flagged[6] = 1;
    expectError(() => decodeModel(flagged), "unsupported-version", /flags 0x0001.*Upgrade edge-cnn/);
    expectError(() => decodeModel(assemble(header, data, 0)), "unsupported-version", "version 0 does not exist");
  });

  it("checksum-mismatch: a flipped byte anywhere in the tensor section, in every dtype", () => {
    for (const d of DTYPES) {
      const f = tinyFiles[d], start = 12 + new DataView(f.buffer).getUint32(8, true);
      for (let i = start; i < f.length - 4; i++) {
        const bad = f.slice();
        bad[i] ^= 0x10;
        const e = formatError(() => decodeModel(bad));
        if (e.code !== "checksum-mismatch") expect.fail(`${d} byte ${i} flipped: ${e.code}: ${e.message}`);
      }
    }
    const bad = seedFiles.f16.slice();
    bad[bad.length - 1000] ^= 1;
    expectError(() => decodeModel(bad), "checksum-mismatch", /corrupted: its CRC-32 checksum is 0x[0-9a-f]{8} but its contents give 0x[0-9a-f]{8}\. Re-download/);
  });

  it("checksum-mismatch: damage to the header JSON, the checksum itself, or extra bytes at the end", () => {
    const inHeader = file.slice();
    inHeader[12 + 10] ^= 0x04; // inside the JSON: the checksum catches it before the JSON is trusted
    expectError(() => decodeModel(inHeader), "checksum-mismatch", "corrupted");
    const inCrc = file.slice();
    inCrc[inCrc.length - 2] ^= 0xff;
    expectError(() => decodeModel(inCrc), "checksum-mismatch", "corrupted");
    const longer = new Uint8Array(file.length + 5);
    longer.set(file);
    expectError(() => decodeModel(longer), "checksum-mismatch", "5 unexpected bytes at the end");
  });

  it("bad-header: unreadable JSON, missing or mistyped fields, an invalid arch (SpecError's words)", () => {
    const { data } = split(file);
    expectError(() => decodeModel(assemble("{not json", data)), "bad-header", "not valid JSON");
    expectError(() => decodeModel(assemble(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]), data)), "bad-header", "not valid UTF-8");
    expectError(() => decodeModel(assemble("[1, 2]", data)), "bad-header", "must be a JSON object");
    const cases: [string, (h: Record<string, any>) => void, string | RegExp][] = [
      ["no name", (h) => { delete h.name; }, '"name" must be a string, got nothing'],
      ["numeric version", (h) => { h.version = 3; }, '"version" must be a string, got 3'],
      ["unknown dtype", (h) => { h.dtype = "f8"; }, '"dtype" must be "f32", "f16" or "int8", got "f8"'],
      ["metrics array", (h) => { h.metrics = [1]; }, '"metrics" must be an object'],
      ["no provenance", (h) => { delete h.provenance; }, '"provenance" must be an object, got nothing'],
      ["preview string", (h) => { h.preview = "yes"; }, '"preview" must be true or false'],
      ["no arch", (h) => { delete h.arch; }, '"arch" must be an architecture object'],
      ["invalid arch", (h) => { h.arch.layers[0].filters = 0; }, /"arch" is not a valid architecture: layer conv1: filters must be a positive integer, got 0/],
      ["arch not ending in affine", (h) => { h.arch.layers.push({ type: "relu" }); }, "the last layer must be affine"],
      ["labels not strings", (h) => { h.labels = [1, 2, 3]; }, '"labels" must be an array of non-empty strings'],
      ["duplicate labels", (h) => { h.labels = ["a", "b", "a"]; }, 'label "a" appears more than once'],
      ["no preprocess", (h) => { delete h.preprocess; }, '"preprocess" must be an object'],
      ["preprocess size", (h) => { h.preprocess.size = [32, 32]; }, /"preprocess.size" 32x32 \(RGB\) does not fit the architecture's input 3x8x8/],
      ["preprocess std 0", (h) => { h.preprocess.std = [1, 0, 1]; }, '"preprocess.std" must be 3 finite non-zero numbers'],
      ["preprocess crop", (h) => { h.preprocess.crop = "fill"; }, '"preprocess.crop" must be "center"'],
      ["no tensors", (h) => { delete h.tensors; }, '"tensors" must be an array'],
      ["tensor dtype", (h) => { h.tensors[1].dtype = "f64"; }, 'tensor conv1.bias: "dtype" must be'],
      ["tensor length", (h) => { h.tensors[0].length = 100; }, 'tensor conv1.weight: "length" is 100 but shape [5,3,3,3] as f32 takes 540 bytes'],
      ["tensor offset", (h) => { h.tensors[2].offset = 3; }, 'tensor affine1.weight: "offset" must be a non-negative multiple of 4'],
      ["tensor shape", (h) => { h.tensors[0].shape = [5, -3, 3, 3]; }, '"shape" must be a non-empty array of positive integers'],
    ];
    for (const [what, mutate, message] of cases) {
      const e = formatError(() => decodeModel(withHeader(file, mutate)));
      expect(e.code, what).toBe("bad-header");
      expect(e.message, what).toMatch(message);
      expect(e.message, what).toContain("export the model again");
    }
  });

  it("bad-header: the encoder refuses metadata the decoder would refuse", () => {
    expectError(() => encodeModel(tinyNet, { ...tinyMeta, preprocess: defaultPreprocess([32, 32]) }, "f32"), "bad-header", /cannot save the model: "preprocess.size"/);
    expectError(() => encodeModel(tinyNet, { ...tinyMeta, name: undefined as unknown as string }), "bad-header", '"name" must be a string');
    expectError(() => encodeModel(tinyNet, tinyMeta, "f8" as ModelDtype), "bad-header", "dtype must be f32, f16 or int8");
  });

  it("shape-mismatch: tensors that do not fit the architecture, naming the tensor", () => {
    expectError(() => decodeModel(withHeader(file, (h) => { h.arch.layers[0].filters = 6; })), "shape-mismatch",
      "tensor conv1.weight has shape [5, 3, 3, 3] but the architecture needs [6, 3, 3, 3]");
    expectError(() => decodeModel(withHeader(file, (h) => { h.tensors.pop(); })), "shape-mismatch", /has 3 tensors but its architecture "tiny" has 4/);
    expectError(() => decodeModel(withHeader(file, (h) => { h.tensors[1].name = "conv1.b"; })), "shape-mismatch", '"conv1.b" but the architecture expects "conv1.bias"');
    expectError(() => decodeModel(withHeader(file, (h) => { h.tensors[2].shape = [3, 4, 20]; })), "shape-mismatch", "affine1.weight has shape [3, 4, 20]");
  });

  it("labels-mismatch: label count differs from the classes, on reading and on writing", () => {
    expectError(() => decodeModel(withHeader(file, (h) => { h.labels.pop(); })), "labels-mismatch", /has 2 labels but its architecture "tiny" has 3 classes/);
    expectError(() => encodeModel(tinyNet, { ...tinyMeta, labels: ["a", "b", "c", "d"] }), "labels-mismatch", "4 labels but the network has 3 classes");
  });

  it("non-finite: NaN or Infinity never gets saved, and a file holding one is refused", () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const net = makeNet(TINY);
      net.param("affine1.weight").data[17] = bad;
      expectError(() => encodeModel(net, tinyMeta, "int8"), "non-finite", `affine1.weight contains ${bad} values`);
    }
    // Written by some other tool: a NaN in the f32 data, an Infinity scale in int8, an f16 Infinity.
    const f32 = split(tinyFiles.f32);
    new DataView(f32.data.buffer).setFloat32(f32.header.tensors[2].offset + 4 * 9, NaN, true);
    expectError(() => decodeModel(assemble(f32.header, f32.data)), "non-finite", "tensor affine1.weight has a non-finite value (NaN) at index 9");
    const int8 = split(tinyFiles.int8);
    new DataView(int8.data.buffer).setFloat32(int8.header.tensors[0].offset + 4, Infinity, true);
    expectError(() => decodeModel(assemble(int8.header, int8.data)), "non-finite", "tensor conv1.weight has a non-finite value");
    const f16 = split(tinyFiles.f16);
    new DataView(f16.data.buffer).setUint16(f16.header.tensors[0].offset, 0x7c00, true);
    expectError(() => decodeModel(assemble(f16.header, f16.data)), "non-finite", "conv1.weight has a non-finite value (Infinity) at index 0");
  });

  it("out-of-range: a weight beyond f16's range is refused for f16 (and fine in f32 and int8)", () => {
    const net = makeNet(TINY);
    net.param("conv1.weight").data[3] = 1e5;
    expectError(() => encodeModel(net, tinyMeta, "f16"), "out-of-range", /conv1.weight\[3\] = 100000 is beyond the f16 range.*f32 or int8/);
    net.param("conv1.weight").data[3] = 65519; // rounds down to 65504, the largest half: allowed
    expect(decodeModel(encodeModel(net, tinyMeta, "f16")).tensors[0].data[3]).toBe(65504);
    net.param("conv1.weight").data[3] = 1e5;
    expect(decodeModel(encodeModel(net, tinyMeta, "f32")).tensors[0].data[3]).toBe(1e5);
    expect(decodeModel(encodeModel(net, tinyMeta, "int8")).tensors[0].data[3]).toBeCloseTo(1e5, -1);
  });
});
