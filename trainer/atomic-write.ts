// Atomic file writes: write a temporary file beside the target, flush it to disk, then rename it over
// the target. A crash or Ctrl-C at any moment leaves either the old file or the new one, never half.

import { accessSync, closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path) || ".", { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(tmp, { force: true }); // never leave a half-written temp file behind
    throw e;
  }
}

/** Throws a clear error now if `path` cannot be written as a file later (it is a folder, or its folder cannot be made). */
export function checkWritableFile(path: string, what: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new OutputError(`cannot write the ${what} ${path}: it is a folder`);
  checkWritableDir(dirname(path) || ".", what);
}

/** Throws a clear error now if folder `dir` cannot be created or is a file. */
export function checkWritableDir(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way" : code === "EACCES" || code === "EROFS" ? "no permission to write there" : (e as Error).message;
    throw new OutputError(`cannot write the ${what} in ${dir}: ${why}`);
  }
}

/** An output location that cannot be used: reported as one line before any work is done. */
export class OutputError extends Error {
  override name = "OutputError";
}
