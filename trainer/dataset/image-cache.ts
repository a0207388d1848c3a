// The decoded-examples cache of an image folder. Decoding thousands of photos takes far longer than
// training a few epochs of this small net, so the uint8 examples are stored once per folder state:
//
//   <cacheDir>/<folder name>-<hash of folder path>-<key>.bin
//
// The key hashes everything the bytes depend on: the cache format version, the preprocessing fields
// that shape the uint8 output (crop, resize, size, background; not scale/mean/std, which apply later),
// the labelling mode, the decode limits, and every listed file's (relative path, size, mtime). Adding,
// removing or editing a file changes the key, so a stale cache is never read. Writing a new cache for a
// folder deletes that folder's older ones. Writes are atomic (temp file + rename); a damaged or
// mismatching cache file is treated as a miss, never an error.
//
// File layout: "ECNNIMG1", u32 LE header length, header JSON (key, classes, size, count, sources,
// skipped), then count label bytes, then count*h*w*3 image bytes.

import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const MAGIC = "ECNNIMG1";
const VERSION = 3; // 2: embedded ICC profiles are no longer applied (decode.ts); 3: JPEGs decoded by the shared decoder at reduced scale

export interface SkippedFile {
  /** Path of the file (as listed under the folder). */
  path: string;
  /** Why it was skipped, e.g. "empty file (0 bytes)". */
  reason: string;
}

/** What a cache file holds: a Dataset with relative sources, plus the files that were skipped. */
export interface CachedFolder {
  classes: string[];
  size: [number, number];
  count: number;
  labels: Uint8Array;
  images: Uint8Array;
  /** Paths relative to the folder. */
  sources: string[];
  skipped: SkippedFile[];
}

export function cacheKey(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify({ v: VERSION, parts })).digest("hex").slice(0, 32);
}

/** The cache file of folder `dir` for `key`. */
export function cacheFile(cacheDir: string, dir: string, key: string): string {
  const abs = path.resolve(dir);
  const name = path.basename(abs).replace(/[^A-Za-z0-9_.-]/g, "_") || "root";
  return path.join(cacheDir, `${name}-${dirHash(abs)}-${key}.bin`);
}

/** The cached folder, or undefined on a miss (absent, damaged, or written for another key). */
export async function readCache(file: string, key: string): Promise<CachedFolder | undefined> {
  const bytes = await readFile(file).catch(() => undefined);
  if (!bytes || bytes.length < 12 || bytes.toString("latin1", 0, 8) !== MAGIC) return undefined;
  try {
    const hlen = bytes.readUInt32LE(8);
    const header = JSON.parse(bytes.toString("utf8", 12, 12 + hlen));
    const { classes, size, count, sources, skipped } = header;
    const body = 12 + hlen, per = size[0] * size[1] * 3;
    if (header.key !== key || bytes.length !== body + count + count * per) return undefined;
    // Copies, so the dataset does not keep the whole file buffer alive through views.
    const labels = new Uint8Array(bytes.subarray(body, body + count));
    const images = new Uint8Array(bytes.subarray(body + count));
    return { classes, size, count, labels, images, sources, skipped };
  } catch {
    return undefined;
  }
}

/** Writes atomically and removes this folder's older cache files. Throws on I/O failure (callers warn). */
export async function writeCache(file: string, key: string, data: CachedFolder): Promise<void> {
  const { classes, size, count, sources, skipped } = data;
  const header = Buffer.from(JSON.stringify({ key, classes, size, count, sources, skipped }), "utf8");
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(header.length, 8);
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, Buffer.concat([prefix, header, data.labels, data.images]));
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  // Older caches of the same folder share the "<name>-<dirhash>-" prefix.
  const stem = path.basename(file).slice(0, -(key.length + 4));
  for (const f of await readdir(dir)) {
    if (f.startsWith(stem) && f.endsWith(".bin") && f !== path.basename(file)) await rm(path.join(dir, f), { force: true });
  }
}

function dirHash(abs: string): string {
  return createHash("sha256").update(abs).digest("hex").slice(0, 8);
}
