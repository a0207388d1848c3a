// Loads a folder of photos as a Dataset: one sub-folder per class (the folder name is the label), or a
// flat Kaggle-style folder where the label is the file-name prefix (cat.123.jpg -> "cat"). Every image
// is decoded with sharp and shrunk by shared/preprocess to uint8 examples, which are cached (see
// image-cache.ts) so the next run over an unchanged folder decodes nothing. Files that cannot be used
// are skipped and reported, never fatal: one bad photo must not stop a training run.

import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { defaultPreprocess, PreprocessError, resizeToModel, type PreprocessSpec } from "../../shared/preprocess.ts";
import type { Dataset } from "./dataset.ts";
import { DecodeError, decodeImageFile, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, type DecodeOptions } from "./decode.ts";
import { DatasetError } from "./errors.ts";
import { cacheFile, cacheKey, readCache, writeCache, type CachedFolder, type SkippedFile } from "./image-cache.ts";

export type { SkippedFile } from "./image-cache.ts";

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".tif", ".tiff", ".avif"];

/** Where caches go by default: the project's git-ignored .cache/, not the (possibly read-only) photo folder. */
export const DEFAULT_CACHE_DIR = path.join(".cache", "edge-cnn", "images");

export interface ImageFolderOptions {
  /** Example size [height, width]; must agree with preprocess.size when both are given. Default [32, 32]. */
  size?: [number, number];
  /** Default defaultPreprocess(size). Only crop, resize, size and background matter here. */
  preprocess?: PreprocessSpec;
  /** "folder": dir/<class>/**; "prefix": dir/<class>.<anything>.<ext>. Default "folder". */
  labelsFrom?: "folder" | "prefix";
  /** Called after each decoded file (not on a cache hit). */
  onProgress?: (done: number, total: number) => void;
  /** Cache folder (relative to the working directory, or absolute); false disables the cache. */
  cacheDir?: string | false;
  /** Decode limits (decompression-bomb guards). */
  decode?: DecodeOptions;
  /** Files decoded at once. sharp has its own thread pool, so a few suffice. Default 4. */
  concurrency?: number;
}

export interface ImageFolderResult {
  dataset: Dataset;
  /** Files that were not used, with the reason (print them: see formatSkipped). */
  skipped: SkippedFile[];
  /** Files decoded in this call: 0 on a cache hit. */
  decoded: number;
  cache: { hit: boolean; file?: string; /** Set when the cache could not be written (the load still succeeded). */ warning?: string };
}

interface Listed {
  rel: string;
  size: number;
  mtimeMs: number;
  /** Label name, or undefined when the file is skipped before decoding. */
  label?: string;
  skip?: string;
}

export async function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<ImageFolderResult> {
  const spec = opts.preprocess ?? defaultPreprocess(opts.size ?? [32, 32]);
  if (opts.size && (opts.size[0] !== spec.size[0] || opts.size[1] !== spec.size[1])) {
    throw new DatasetError(`size ${opts.size.join("x")} disagrees with preprocess.size ${spec.size.join("x")}`);
  }
  const labelsFrom = opts.labelsFrom ?? "folder";
  const decodeOpts: Required<DecodeOptions> = {
    maxPixels: opts.decode?.maxPixels ?? DEFAULT_MAX_PIXELS, maxBytes: opts.decode?.maxBytes ?? DEFAULT_MAX_BYTES,
    inputSize: spec.size, // JPEGs decode at the shared reduced scale for this input, as at the edge
  };
  const cacheDir = opts.cacheDir === false ? undefined : path.resolve(opts.cacheDir ?? DEFAULT_CACHE_DIR);

  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new DatasetError(`image folder not found: ${dir}`);
  if (!st.isDirectory()) throw new DatasetError(`${dir} is not a folder`);
  const { files: listed, classes } = labelsFrom === "folder" ? await listByFolder(dir, cacheDir) : await listByPrefix(dir);
  if (classes.length > 256) throw new DatasetError(`${dir} has ${classes.length} classes; at most 256 are supported`);

  const key = cacheKey({
    spec: { crop: spec.crop, resize: spec.resize, size: spec.size, background: spec.background },
    labelsFrom, decode: decodeOpts, files: listed.map((f) => [f.rel, f.size, f.mtimeMs]),
  });
  const file = cacheDir ? cacheFile(cacheDir, dir, key) : undefined;
  const cached = file ? await readCache(file, key) : undefined;
  if (cached) return { dataset: toDataset(dir, cached), skipped: absolute(dir, cached.skipped), decoded: 0, cache: { hit: true, file } };

  const built = await decodeAll(dir, listed, classes, spec, decodeOpts, opts);
  const result: ImageFolderResult = { dataset: toDataset(dir, built), skipped: absolute(dir, built.skipped), decoded: built.decoded, cache: { hit: false, file } };
  if (file) {
    try {
      await writeCache(file, key, built);
    } catch (e) {
      result.cache.warning = `could not write the decode cache ${file}: ${(e as Error).message}`;
    }
  }
  return result;
}

/** Human-readable lines for skipped files, ending with the count: what the CLI prints. */
export function formatSkipped(skipped: SkippedFile[]): string[] {
  if (skipped.length === 0) return [];
  return [...skipped.map((s) => `skipped ${s.path}: ${s.reason}`), `${skipped.length} file${skipped.length === 1 ? "" : "s"} skipped`];
}

/** dir/<class>/... : every non-hidden file below a class folder, in sorted order. */
async function listByFolder(dir: string, cacheDir: string | undefined): Promise<{ files: Listed[]; classes: string[] }> {
  const top = await entries(dir);
  const classDirs = top.filter((e) => e.isDir && path.resolve(dir, e.name) !== cacheDir).map((e) => e.name);
  if (classDirs.length === 0) {
    const prefixed = top.some((e) => !e.isDir && isImageName(e.name) && e.name.split(".").length > 2);
    throw new DatasetError(
      `no class folders in ${dir}: expected one sub-folder per class (${path.join(dir, "cat", "1.jpg")}, ${path.join(dir, "dog", "1.jpg")}, ...)` +
      (prefixed ? `; these file names look like label.N.jpg: use labels from the file-name prefix (--labels-from prefix)` : ""));
  }
  const out: Listed[] = [];
  // Loose images beside the class folders are probably a mistake worth reporting; README and the like are not.
  for (const e of top) if (!e.isDir && isImageName(e.name)) out.push({ rel: e.name, size: e.size, mtimeMs: e.mtimeMs, skip: "not inside a class folder" });
  for (const label of classDirs) {
    for (const f of await walk(dir, label, cacheDir)) out.push({ ...f, label, skip: isImageName(f.rel) ? undefined : notImage(f.rel) });
  }
  return { files: out, classes: classDirs };
}

/** dir/<class>.<rest>.<ext>: flat Kaggle layout (sub-folders are not read). */
async function listByPrefix(dir: string): Promise<{ files: Listed[]; classes: string[] }> {
  const out: Listed[] = [];
  for (const e of await entries(dir)) {
    if (e.isDir) continue;
    const parts = e.name.split(".");
    const base = { rel: e.name, size: e.size, mtimeMs: e.mtimeMs };
    if (!isImageName(e.name)) out.push({ ...base, skip: notImage(e.name) });
    else if (parts.length < 3 || parts[0] === "") out.push({ ...base, skip: `no label prefix (expected LABEL.NAME.ext, e.g. cat.123.jpg)` });
    else out.push({ ...base, label: parts[0] });
  }
  if (!out.some((f) => f.label !== undefined)) {
    throw new DatasetError(`no images named LABEL.NAME.ext (e.g. cat.123.jpg) in ${dir}` +
      ((await entries(dir)).some((e) => e.isDir) ? `; it has sub-folders: use labels from folder names (--labels-from folder)` : ""));
  }
  const classes = [...new Set(out.filter((f) => f.label !== undefined).map((f) => f.label!))].sort(byCodeUnit);
  return { files: out, classes };
}

interface Entry { name: string; isDir: boolean; size: number; mtimeMs: number }

/** Non-hidden entries of a folder, sorted by code unit (locale-independent), symlinks followed. */
async function entries(dir: string): Promise<Entry[]> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith(".")).sort(byCodeUnit);
  const out: Entry[] = [];
  for (const name of names) {
    const st = await stat(path.join(dir, name)).catch(() => undefined); // a dangling symlink is just absent
    if (st && (st.isDirectory() || st.isFile())) out.push({ name, isDir: st.isDirectory(), size: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}

/** Files below dir/rel (recursively), as paths relative to dir; `seen` stops symlink loops. */
async function walk(dir: string, rel: string, cacheDir: string | undefined, seen = new Set<string>()): Promise<Omit<Listed, "label">[]> {
  const real = await realpath(path.join(dir, rel));
  if (seen.has(real) || real === cacheDir) return [];
  seen.add(real);
  const out: Omit<Listed, "label">[] = [];
  for (const e of await entries(path.join(dir, rel))) {
    const r = path.join(rel, e.name);
    if (e.isDir) out.push(...(await walk(dir, r, cacheDir, seen)));
    else out.push({ rel: r, size: e.size, mtimeMs: e.mtimeMs });
  }
  return out;
}

async function decodeAll(
  dir: string, listed: Listed[], classes: string[], spec: PreprocessSpec, decodeOpts: DecodeOptions, opts: ImageFolderOptions,
): Promise<CachedFolder & { decoded: number }> {
  const todo = listed.filter((f) => f.label !== undefined && f.skip === undefined);
  const examples = new Array<Uint8Array | undefined>(todo.length);
  let next = 0, done = 0;
  // A few workers pull files in order; results land by index, so the output order never depends on timing.
  const worker = async () => {
    while (next < todo.length) {
      const f = todo[next], i = next++;
      try {
        examples[i] = resizeToModel(await decodeImageFile(path.join(dir, f.rel), decodeOpts), spec);
      } catch (e) {
        // Recorded on the listing itself, so the skipped list keeps the listing's order.
        if (e instanceof DecodeError) f.skip = e.reason;
        else if (e instanceof PreprocessError) f.skip = e.message;
        else throw e;
      }
      opts.onProgress?.(++done, todo.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));

  const skipped = listed.filter((f) => f.skip !== undefined).map((f) => ({ path: f.rel, reason: f.skip! }));
  for (const c of classes) {
    if (!todo.some((f, i) => f.label === c && examples[i])) {
      const bad = listed.filter((f) => f.label === c && f.skip !== undefined);
      throw new DatasetError(`class "${c}" in ${dir} has no usable images` +
        (bad.length ? ` (${bad.length} file${bad.length === 1 ? "" : "s"} skipped, e.g. ${bad[0].rel}: ${bad[0].skip})` : ""));
    }
  }
  const per = spec.size[0] * spec.size[1] * 3, count = examples.filter((ex) => ex).length;
  const images = new Uint8Array(count * per), labels = new Uint8Array(count), sources: string[] = [];
  todo.forEach((f, i) => {
    const ex = examples[i];
    if (!ex) return;
    images.set(ex, sources.length * per);
    labels[sources.length] = classes.indexOf(f.label!);
    sources.push(f.rel);
  });
  return { classes, size: spec.size, count, labels, images, sources, skipped, decoded: todo.length };
}

function toDataset(dir: string, c: CachedFolder): Dataset {
  return { classes: c.classes, count: c.count, size: c.size, images: c.images, labels: c.labels, sources: c.sources.map((r) => path.join(dir, r)) };
}

function absolute(dir: string, skipped: SkippedFile[]): SkippedFile[] {
  return skipped.map((s) => ({ path: path.join(dir, s.path), reason: s.reason }));
}

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

function notImage(name: string): string {
  const ext = path.extname(name);
  return ext ? `not an image file (extension ${ext})` : "not an image file (no extension)";
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
