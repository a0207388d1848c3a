// Training checkpoints: everything needed to continue a run exactly (weights, optimiser state, RNG
// states, position in the epoch, the split, the history so far). One binary file: magic "ECKP",
// u32 version, u32 JSON length, the JSON state, then the typed arrays it refers to (4-byte aligned),
// then a CRC-32 of everything before it. Written atomically after every epoch and on Ctrl-C.

import { readFileSync } from "node:fs";
import { crc32 } from "../../shared/crc32.ts";
import { writeFileAtomic } from "../atomic-write.ts";

const MAGIC = 0x504b4345; // "ECKP" little-endian
const VERSION = 1;

type Blob = Float32Array | Int32Array;
interface BlobRef { $blob: "f32" | "i32"; offset: number; length: number }

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** Encodes a JSON-like value whose leaves may be Float32Array/Int32Array. */
export function encodeCheckpoint(state: unknown): Uint8Array {
  const blobs: Blob[] = [];
  let offset = 0;
  const json = JSON.stringify(state, (_key, value) => {
    if (value instanceof Float32Array || value instanceof Int32Array) {
      const ref: BlobRef = { $blob: value instanceof Float32Array ? "f32" : "i32", offset, length: value.length };
      blobs.push(value);
      offset += value.byteLength;
      return ref;
    }
    return value;
  });
  const head = new TextEncoder().encode(json);
  const headPadded = (head.length + 3) & ~3;
  const total = 12 + headPadded + offset + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, head.length, true);
  out.set(head, 12);
  out.fill(0x20, 12 + head.length, 12 + headPadded);
  let pos = 12 + headPadded;
  for (const b of blobs) {
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), pos); // host order: little-endian on x86/ARM
    pos += b.byteLength;
  }
  view.setUint32(pos, crc32(out.subarray(0, pos)), true);
  return out;
}

export function decodeCheckpoint<T>(bytes: Uint8Array, what = "checkpoint"): T {
  if (bytes.length < 16) throw new CheckpointError(`${what} is truncated (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new CheckpointError(`${what} is not an edge-cnn checkpoint (wrong magic bytes)`);
  const version = view.getUint32(4, true);
  if (version > VERSION) throw new CheckpointError(`${what} has checkpoint version ${version}; this edge-cnn reads up to ${VERSION}: upgrade edge-cnn`);
  const stored = view.getUint32(bytes.length - 4, true);
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== stored) {
    throw new CheckpointError(`${what} is corrupted or truncated (checksum mismatch); use an earlier checkpoint or start again`);
  }
  const headLen = view.getUint32(8, true);
  const dataStart = 12 + ((headLen + 3) & ~3);
  const json = new TextDecoder().decode(bytes.subarray(12, 12 + headLen));
  return JSON.parse(json, (_key, value) => {
    if (value && typeof value === "object" && "$blob" in value) {
      const ref = value as BlobRef;
      const start = dataStart + ref.offset;
      // An aligned copy (new Uint8Array, not bytes.slice: on a Node Buffer slice is a view).
      const copy = new Uint8Array(ref.length * 4);
      copy.set(bytes.subarray(start, start + ref.length * 4));
      return ref.$blob === "f32" ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
    }
    return value;
  }) as T;
}

export function saveCheckpoint(path: string, state: unknown): void {
  writeFileAtomic(path, encodeCheckpoint(state));
}

export function loadCheckpoint<T>(path: string): T {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  return decodeCheckpoint<T>(bytes, `checkpoint ${path}`);
}
