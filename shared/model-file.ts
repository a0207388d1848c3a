// The model file: one little-endian binary file that carries everything needed to classify with a
// trained network (architecture, labels, preprocessing, weights) plus its metrics and provenance.
// Layout (docs/model-format.md has it byte by byte):
//   "ECNN" | u16 format version | u16 flags | u32 header length H | H bytes of UTF-8 JSON (space padded)
//   | tensors, each 4-byte aligned | u32 CRC-32 of every byte before it
// Decoding checks everything and throws ModelFormatError with a code and a message that says what is
// wrong and what to do: a bad file must give a clear error, never garbage predictions.

import { crc32 } from "./crc32.ts";
import { F16_MAX, f16Table, f32ToF16 } from "./f16.ts";
import type { Kernels } from "./kernels/kernels.ts";
import { Network } from "./network.ts";
import type { PreprocessSpec } from "./preprocess.ts";
import { resolveSpec, SpecError, type ArchSpec } from "./spec.ts";
import { inferenceNetwork } from "./fold-batchnorm.ts";
import { firstNonFinite } from "./train-step.ts";

export const MODEL_MAGIC = "ECNN";
/** The format version this code writes and the newest it reads. Bump it for any change an older
 *  reader would misread; additions it can safely ignore go in the header JSON instead. */
export const MODEL_FORMAT_VERSION = 1;

export type ModelDtype = "f32" | "f16" | "int8";
export const MODEL_DTYPES: readonly ModelDtype[] = ["f32", "f16", "int8"];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a user says about a model (everything in the header except the architecture, the dtype and
 *  the tensor table, which come from the network and the encoder). */
export interface ModelMeta {
  /** Model name, e.g. "cifar10". */
  name: string;
  /** The model's own version (user-chosen, e.g. "1.0.0"); not the file format version. */
  version: string;
  /** Class names, one per output of the network, in output order. */
  labels: string[];
  /** How pixels become the input tensor; every place that classifies applies exactly this. */
  preprocess: PreprocessSpec;
  /** Free-form results, e.g. { val_accuracy: 0.75, test_accuracy: 0.74 }. */
  metrics: Record<string, JsonValue>;
  /** Free-form origin, e.g. { created_at, command, dataset, git_commit, trainer_version }. */
  provenance: Record<string, JsonValue>;
  /** True for a model trained only briefly (a preview, not for real use). */
  preview?: boolean;
}

/** One entry of the header's tensor table. offset is relative to the start of the tensor data. */
export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: ModelDtype;
  offset: number;
  length: number;
}

/** The header JSON, field by field. */
export interface ModelHeader extends ModelMeta {
  arch: ArchSpec;
  dtype: ModelDtype;
  tensors: TensorEntry[];
}

/** A decoded tensor; data is float32, dequantized from the stored dtype. */
export interface LoadedTensor {
  name: string;
  shape: number[];
  dtype: ModelDtype;
  data: Float32Array;
}

export interface LoadedModel {
  meta: ModelMeta;
  /** The file's dtype (biases are f32 whatever it says; each tensor has its own). */
  dtype: ModelDtype;
  spec: ArchSpec;
  tensors: LoadedTensor[];
  /** Size of the whole file in bytes. */
  byteLength: number;
}

export interface LoadedNetwork extends LoadedModel {
  net: Network;
}

export type ModelFormatErrorCode =
  | "truncated" | "bad-magic" | "unsupported-version" | "checksum-mismatch" | "bad-header"
  | "shape-mismatch" | "labels-mismatch" | "non-finite" | "out-of-range";

export class ModelFormatError extends Error {
  override name = "ModelFormatError";
  constructor(readonly code: ModelFormatErrorCode, message: string) {
    super(message);
  }
}

const FIXED = 12; // magic + version + flags + header length
const CRC = 4;
const REEXPORT = "Re-download the file or export the model again.";

function fail(code: ModelFormatErrorCode, message: string): never {
  throw new ModelFormatError(code, message);
}

const align4 = (n: number): number => (n + 3) & ~3;
const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bytes a tensor takes in the file: int8 stores one f32 scale per output channel (dim 0) first. */
export function tensorByteLength(shape: readonly number[], dtype: ModelDtype): number {
  const count = product(shape);
  return dtype === "f32" ? 4 * count : dtype === "f16" ? 2 * count : 4 * shape[0] + count;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Writes `net`'s weights and `meta` as a model file. Weight tensors are stored as `dtype`; biases
 * (rank 1) always as f32, since they are tiny and quantizing them costs accuracy for nothing.
 * Throws ModelFormatError "non-finite" if any weight is NaN or Infinity (naming the tensor):
 * NaN must never reach a saved model.
 */
export function encodeModel(net: Network, meta: ModelMeta, dtype: ModelDtype = "f32"): Uint8Array {
  const bad = firstNonFinite(net.params);
  if (bad) {
    fail("non-finite", `cannot save the model: ${bad.name} contains ${bad.value} values, so the network is unusable. ` +
      "Training diverged; retrain from the last good checkpoint (e.g. with a lower --lr).");
  }
  if (!MODEL_DTYPES.includes(dtype)) fail("bad-header", `cannot save the model: dtype must be f32, f16 or int8, got ${JSON.stringify(dtype)}`);
  if (meta.labels?.length !== net.classes) {
    fail("labels-mismatch", `cannot save the model: it has ${meta.labels?.length ?? 0} labels but the network has ${net.classes} classes; ` +
      "give exactly one label per output.");
  }

  const chunks: Uint8Array[] = [];
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const p of net.params) {
    const td: ModelDtype = p.shape.length === 1 ? "f32" : dtype;
    const bytes = encodeTensor(p.name, p.data, p.shape, td);
    tensors.push({ name: p.name, shape: [...p.shape], dtype: td, offset, length: bytes.length });
    chunks.push(bytes);
    offset = align4(offset + bytes.length);
  }
  const dataLength = tensors.length ? tensors[tensors.length - 1].offset + tensors[tensors.length - 1].length : 0;

  const header: ModelHeader = {
    name: meta.name, version: meta.version, arch: net.spec, labels: meta.labels, preprocess: meta.preprocess,
    dtype, metrics: meta.metrics, provenance: meta.provenance,
    ...(meta.preview !== undefined ? { preview: meta.preview } : {}),
    tensors,
  };
  // Write only what the reader accepts: the same checks, so every saved file loads.
  const text = JSON.stringify(header);
  checkHeader(JSON.parse(text), "cannot save the model");
  const json = new TextEncoder().encode(text);
  const H = align4(json.length); // padded with spaces so the tensor data starts 4-byte aligned

  const out = new Uint8Array(FIXED + H + dataLength + CRC);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = MODEL_MAGIC.charCodeAt(i);
  dv.setUint16(4, MODEL_FORMAT_VERSION, true);
  dv.setUint16(6, 0, true);
  dv.setUint32(8, H, true);
  out.fill(0x20, FIXED, FIXED + H);
  out.set(json, FIXED);
  for (let i = 0; i < tensors.length; i++) out.set(chunks[i], FIXED + H + tensors[i].offset); // gaps stay zero
  dv.setUint32(out.length - CRC, crc32(out.subarray(0, out.length - CRC)), true);
  return out;
}

function encodeTensor(name: string, data: Float32Array, shape: readonly number[], dtype: ModelDtype): Uint8Array {
  const out = new Uint8Array(tensorByteLength(shape, dtype));
  const dv = new DataView(out.buffer);
  if (dtype === "f32") {
    for (let i = 0; i < data.length; i++) dv.setFloat32(4 * i, data[i], true);
  } else if (dtype === "f16") {
    for (let i = 0; i < data.length; i++) {
      const h = f32ToF16(data[i]);
      if ((h & 0x7fff) === 0x7c00) { // rounded to Infinity
        fail("out-of-range", `cannot save the model as f16: ${name}[${i}] = ${data[i]} is beyond the f16 range (+-${F16_MAX}) ` +
          "and would become Infinity. Save it as f32 or int8 instead.");
      }
      dv.setUint16(2 * i, h, true);
    }
  } else {
    // Symmetric per-output-channel int8: scale = maxabs / 127, q = round(w / scale) in [-127, 127].
    const channels = shape[0], per = data.length / channels;
    const q = new Int8Array(out.buffer, 4 * channels);
    for (let c = 0; c < channels; c++) {
      let maxabs = 0;
      for (let i = c * per; i < (c + 1) * per; i++) maxabs = Math.max(maxabs, Math.abs(data[i]));
      const scale = Math.fround(maxabs / 127); // the stored f32 scale is the one that dequantizes
      dv.setFloat32(4 * c, scale, true);
      if (scale === 0) continue; // an all-zero channel stays zero (q already 0)
      for (let i = c * per; i < (c + 1) * per; i++) {
        const r = Math.round(Math.abs(data[i]) / scale); // round half away from zero: symmetric
        q[i] = Math.sign(data[i]) * Math.min(127, r);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reads and fully checks a model file; tensors come back as float32 (dequantized). */
export function decodeModel(bytes: Uint8Array | ArrayBuffer): LoadedModel {
  return decode(bytes).model;
}

/**
 * Reads a model file and builds a ready Network with its weights. A network with batchnorm comes back
 * in its inference form (batchnorm folded into the convolutions: fold-batchnorm.ts) unless
 * `fold: false` (to train it further); `spec` stays the file's architecture either way.
 */
export function loadNetwork(bytes: Uint8Array | ArrayBuffer, options: { kernels?: Kernels; seed?: number; fold?: boolean } = {}): LoadedNetwork {
  const { model, net } = decode(bytes, options);
  model.tensors.forEach((t, i) => net.params[i].data.set(t.data));
  return { ...model, net: options.fold === false ? net : inferenceNetwork(net, options) };
}

function decode(input: Uint8Array | ArrayBuffer, options: { kernels?: Kernels; seed?: number } = {}): { model: LoadedModel; net: Network } {
  // isView rather than instanceof: a Uint8Array from another realm (iframe, vm) must work too.
  const bytes = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
  const n = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n);

  // 1. The fixed part.
  if (n < 4) fail("truncated", `model file is truncated: it has ${n} bytes, but even the smallest model file has ${FIXED + CRC}. ${REEXPORT}`);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== MODEL_MAGIC) {
    fail("bad-magic", `not an edge-cnn model file: it starts with ${describeStart(bytes)} instead of "ECNN"${sniff(bytes)}. ` +
      "Use a .bin model file written by edge-cnn (train or export).");
  }
  if (n < FIXED + CRC) fail("truncated", `model file is truncated: it has ${n} bytes, but even the smallest model file has ${FIXED + CRC}. ${REEXPORT}`);
  const version = dv.getUint16(4, true), flags = dv.getUint16(6, true);
  if (version > MODEL_FORMAT_VERSION) {
    fail("unsupported-version", `model file format version ${version} is newer than this edge-cnn reads (version ${MODEL_FORMAT_VERSION}). ` +
      "Upgrade edge-cnn to load it, or export the model again with this version.");
  }
  if (version < 1) fail("unsupported-version", `model file format version ${version} does not exist (this edge-cnn reads version ${MODEL_FORMAT_VERSION}); the file is damaged. ${REEXPORT}`);
  // Flags mark features an older reader must not ignore, so an unknown flag means a newer writer.
  if (flags !== 0) {
    fail("unsupported-version", `model file uses format flags 0x${flags.toString(16).padStart(4, "0")} that this edge-cnn does not know ` +
      "(it was written by a newer edge-cnn). Upgrade edge-cnn to load it.");
  }
  const H = dv.getUint32(8, true);
  const dataStart = FIXED + H;

  // 2. The checksum. It is always the last 4 bytes, so check it before trusting anything else; on a
  //    mismatch, tell a cut-off file (the usual cause) from a damaged one.
  const stored = dv.getUint32(n - CRC, true);
  const actual = crc32(bytes.subarray(0, n - CRC));
  if (stored !== actual) {
    if (n < dataStart + CRC) {
      fail("truncated", `model file is truncated: its header says it is ${H} bytes long, so the file needs at least ` +
        `${dataStart + CRC} bytes, but it has ${n}. It was probably cut off while downloading or copying. ${REEXPORT}`);
    }
    const expected = expectedLength(bytes.subarray(FIXED, dataStart), dataStart);
    if (expected !== null && n < expected) {
      fail("truncated", `model file is truncated: expected ${expected} bytes (header, tensors and checksum), got ${n} ` +
        `(${expected - n} missing). It was probably cut off while downloading or copying. ${REEXPORT}`);
    }
    const extra = expected !== null && n > expected ? ` (it also has ${n - expected} unexpected bytes at the end)` : "";
    fail("checksum-mismatch", `model file is corrupted: its CRC-32 checksum is ${hex32(stored)} but its contents give ${hex32(actual)}${extra}. ${REEXPORT}`);
  }
  if (n < dataStart + CRC) fail("truncated", `model file is truncated: its header says it is ${H} bytes long, but the file has only ${n} bytes. ${REEXPORT}`);
  if (H % 4 !== 0) fail("bad-header", `model file header length ${H} is not a multiple of 4, so the tensor data is not 4-byte aligned. ${REEXPORT}`);

  // 3. The header.
  let text: string, raw: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes.subarray(FIXED, dataStart));
  } catch {
    fail("bad-header", `model file header is not valid UTF-8. ${REEXPORT}`);
  }
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail("bad-header", `model file header is not valid JSON (${(e as Error).message}). ${REEXPORT}`);
  }
  const header = checkHeader(raw, "model file header is invalid");

  // 4. The header against the network its architecture builds.
  let net: Network;
  try {
    net = new Network(header.arch, options); // checkHeader has already resolved the spec
  } catch (e) {
    // Only an absurd (crafted) architecture gets here: its tensors cannot even be allocated.
    if (e instanceof RangeError) fail("bad-header", `model file architecture "${header.arch.name}" is too large to build (${e.message}). ${REEXPORT}`);
    throw e;
  }
  if (header.labels.length !== net.classes) {
    fail("labels-mismatch", `model file has ${header.labels.length} labels but its architecture "${header.arch.name}" has ` +
      `${net.classes} classes; every output needs exactly one label. ${REEXPORT}`);
  }
  const params = net.params;
  if (header.tensors.length !== params.length) {
    fail("shape-mismatch", `model file has ${header.tensors.length} tensors but its architecture "${header.arch.name}" has ` +
      `${params.length} (${params.map((p) => p.name).join(", ")}). ${REEXPORT}`);
  }
  header.tensors.forEach((t, i) => {
    const p = params[i];
    if (t.name !== p.name) fail("shape-mismatch", `model file tensor ${i + 1} is "${t.name}" but the architecture expects "${p.name}" there. ${REEXPORT}`);
    if (t.shape.join() !== p.shape.join()) {
      fail("shape-mismatch", `model file tensor ${t.name} has shape [${t.shape.join(", ")}] but the architecture needs ` +
        `[${p.shape.join(", ")}]. ${REEXPORT}`);
    }
  });

  // 5. The tensor data.
  const dataLength = n - CRC - dataStart;
  const end = header.tensors.reduce((m, t) => Math.max(m, t.offset + t.length), 0);
  if (end > dataLength) {
    fail("truncated", `model file is truncated: its tensors need ${dataStart + end + CRC} bytes, got ${n}. ${REEXPORT}`);
  }
  if (end < dataLength) fail("bad-header", `model file has ${dataLength - end} unexpected bytes after its last tensor. ${REEXPORT}`);
  const tensors = header.tensors.map((t): LoadedTensor => {
    const data = decodeTensor(bytes, dataStart + t.offset, t);
    for (let i = 0; i < data.length; i++) {
      if (data[i] - data[i] !== 0) { // NaN or +-Infinity
        fail("non-finite", `model file tensor ${t.name} has a non-finite value (${data[i]}) at index ${i}; the model is unusable. ` +
          "Export it again from a good checkpoint.");
      }
    }
    return { name: t.name, shape: t.shape, dtype: t.dtype, data };
  });

  const meta: ModelMeta = {
    name: header.name, version: header.version, labels: header.labels, preprocess: header.preprocess,
    metrics: header.metrics, provenance: header.provenance,
    ...(header.preview !== undefined ? { preview: header.preview } : {}),
  };
  return { model: { meta, dtype: header.dtype, spec: header.arch, tensors, byteLength: n }, net };
}

// Typed-array views read in the platform's byte order. Every current JS platform is little-endian,
// where a view is much faster than DataView; the DataView path keeps the format right anywhere else.
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function decodeTensor(bytes: Uint8Array, at: number, t: TensorEntry): Float32Array {
  const count = product(t.shape), out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, t.length);
  if (t.dtype === "f32") {
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(at, at + 4 * count));
    else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
  } else if (t.dtype === "f16") {
    const table = f16Table();
    if (LITTLE_ENDIAN) {
      const h = new Uint16Array(bytes.slice(at, at + 2 * count).buffer); // slice: a view needs 2-byte alignment
      for (let i = 0; i < count; i++) out[i] = table[h[i]];
    } else {
      for (let i = 0; i < count; i++) out[i] = table[dv.getUint16(2 * i, true)];
    }
  } else {
    const channels = t.shape[0], per = count / channels;
    const q = new Int8Array(bytes.buffer, bytes.byteOffset + at + 4 * channels, count);
    for (let c = 0; c < channels; c++) {
      const scale = dv.getFloat32(4 * c, true);
      for (let i = c * per; i < (c + 1) * per; i++) out[i] = q[i] * scale;
    }
  }
  return out;
}

/** The file length the header's tensor table implies, or null if the header cannot be read
 *  (only used to explain a checksum mismatch, so it is lenient). */
function expectedLength(headerBytes: Uint8Array, dataStart: number): number | null {
  try {
    const h = JSON.parse(new TextDecoder().decode(headerBytes)) as { tensors?: { offset?: unknown; length?: unknown }[] };
    let end = 0;
    for (const t of h.tensors ?? []) {
      if (typeof t.offset !== "number" || typeof t.length !== "number") return null;
      end = Math.max(end, t.offset + t.length);
    }
    return Number.isSafeInteger(end) ? dataStart + end + CRC : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Header checks, shared by the writer and the reader.

function checkHeader(raw: unknown, context: string): ModelHeader {
  const bad: (why: string) => never = (why) => fail("bad-header", `${context}: ${why}.${context.startsWith("model file") ? ` ${REEXPORT}` : ""}`);
  if (!isObject(raw)) bad("the header must be a JSON object");
  const h = raw as Record<string, unknown>;
  for (const key of ["name", "version"]) if (typeof h[key] !== "string") bad(`"${key}" must be a string, got ${show(h[key])}`);
  if (!MODEL_DTYPES.includes(h.dtype as ModelDtype)) bad(`"dtype" must be "f32", "f16" or "int8", got ${show(h.dtype)}`);
  for (const key of ["metrics", "provenance"]) if (!isObject(h[key])) bad(`"${key}" must be an object, got ${show(h[key])}`);
  if (h.preview !== undefined && typeof h.preview !== "boolean") bad(`"preview" must be true or false, got ${show(h.preview)}`);

  // resolveSpec checks every layer; a bad spec is a header problem, told in the SpecError's words.
  if (!isObject(h.arch)) bad(`"arch" must be an architecture object, got ${show(h.arch)}`);
  try {
    resolveSpec(h.arch as ArchSpec);
  } catch (e) {
    if (e instanceof SpecError) bad(`"arch" is not a valid architecture: ${e.message}`);
    throw e;
  }
  const input = (h.arch as ArchSpec).input;

  if (!Array.isArray(h.labels) || !h.labels.every((l) => typeof l === "string" && l.length > 0)) {
    bad(`"labels" must be an array of non-empty strings, got ${show(h.labels)}`);
  }
  const labels = h.labels as string[];
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup !== undefined) bad(`label ${JSON.stringify(dup)} appears more than once`);

  checkPreprocess(h.preprocess, input, bad);

  if (!Array.isArray(h.tensors)) bad(`"tensors" must be an array, got ${show(h.tensors)}`);
  for (const [i, t] of (h.tensors as unknown[]).entries()) {
    const where = `tensor ${i + 1}`;
    if (!isObject(t)) bad(`${where} must be an object`);
    const e = t as Record<string, unknown>;
    if (typeof e.name !== "string") bad(`${where}: "name" must be a string, got ${show(e.name)}`);
    const name = `tensor ${e.name}`;
    if (!Array.isArray(e.shape) || e.shape.length === 0 || !e.shape.every(isPositiveInt)) {
      bad(`${name}: "shape" must be a non-empty array of positive integers, got ${show(e.shape)}`);
    }
    if (!MODEL_DTYPES.includes(e.dtype as ModelDtype)) bad(`${name}: "dtype" must be "f32", "f16" or "int8", got ${show(e.dtype)}`);
    if (!isNonNegativeInt(e.offset) || e.offset % 4 !== 0) bad(`${name}: "offset" must be a non-negative multiple of 4, got ${show(e.offset)}`);
    const want = tensorByteLength(e.shape as number[], e.dtype as ModelDtype);
    if (e.length !== want) bad(`${name}: "length" is ${show(e.length)} but shape [${e.shape}] as ${e.dtype} takes ${want} bytes`);
  }
  return h as unknown as ModelHeader;
}

function checkPreprocess(p: unknown, input: readonly number[], bad: (why: string) => never): void {
  if (!isObject(p)) bad(`"preprocess" must be an object, got ${show(p)}`);
  const s = p as Record<string, unknown>;
  const triple = (v: unknown, ok: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length === 3 && v.every(ok);
  const finite = (x: unknown): boolean => typeof x === "number" && Number.isFinite(x);
  if (s.crop !== "center") bad(`"preprocess.crop" must be "center", got ${show(s.crop)}`);
  if (s.resize !== "area") bad(`"preprocess.resize" must be "area", got ${show(s.resize)}`);
  if (!Array.isArray(s.size) || s.size.length !== 2 || !s.size.every(isPositiveInt)) {
    bad(`"preprocess.size" must be [height, width] of positive integers, got ${show(s.size)}`);
  }
  if (!triple(s.background, (x) => isNonNegativeInt(x) && (x as number) <= 255)) {
    bad(`"preprocess.background" must be [r, g, b] integers 0..255, got ${show(s.background)}`);
  }
  if (!finite(s.scale)) bad(`"preprocess.scale" must be a finite number, got ${show(s.scale)}`);
  if (!triple(s.mean, finite)) bad(`"preprocess.mean" must be 3 finite numbers, got ${show(s.mean)}`);
  if (!triple(s.std, (x) => finite(x) && x !== 0)) bad(`"preprocess.std" must be 3 finite non-zero numbers, got ${show(s.std)}`);
  if (s.views !== undefined && !["none", "flip", "flip-translate"].includes(s.views as string)) {
    bad(`"preprocess.views" must be "none", "flip" or "flip-translate", got ${show(s.views)}`);
  }
  // Preprocessing makes an RGB image of `size`; the network must take exactly that.
  const [h, w] = s.size as number[];
  if (input[0] !== 3 || input[1] !== h || input[2] !== w) {
    bad(`"preprocess.size" ${h}x${w} (RGB) does not fit the architecture's input ${input.join("x")} (channels x height x width)`);
  }
}

const isObject = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 1;
const isNonNegativeInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const hex32 = (v: number): string => `0x${v.toString(16).padStart(8, "0")}`;

function show(v: unknown): string {
  const s = v === undefined ? "nothing" : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function describeStart(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 4));
  const printable = head.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? JSON.stringify(String.fromCharCode(...head)) : head.map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Names a few formats people pass by mistake. */
function sniff(bytes: Uint8Array): string {
  const ascii = String.fromCharCode(...bytes.subarray(0, 64));
  const start = ascii.trimStart();
  if (ascii.startsWith("version https://git-lfs")) return " (it is a Git LFS pointer: run `git lfs pull` to fetch the real file)";
  if (bytes[0] === 0x89 && ascii.startsWith("PNG", 1)) return " (it is a PNG image)";
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return " (it is a JPEG image)";
  if (ascii.startsWith("PK\x03\x04")) return " (it is a ZIP archive)";
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return " (it is gzip-compressed)";
  if (start.startsWith("{") || start.startsWith("[")) return " (it looks like JSON)";
  if (start.startsWith("<")) return " (it looks like HTML or XML, perhaps an error page)";
  if (bytes[0] === 0x08) return " (it may be an ONNX model; edge-cnn loads only its own .bin format)";
  return "";
}
