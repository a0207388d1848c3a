// A small streaming tar reader (POSIX ustar and GNU tar, 512-byte blocks), enough to read the members
// of an archive such as cifar-10-binary.tar.gz without unpacking it by hand and without a dependency.
// It keeps only the members the caller asks for in memory; everything else is skipped as it streams.

import { DatasetError } from "./errors.ts";

const BLOCK = 512;

/**
 * Reads the regular-file members for which `want(name)` is true from a tar byte stream (already
 * gunzipped), keyed by full path ("cifar-10-batches-bin/data_batch_1.bin"). `label` names the archive in errors.
 */
export async function readTarMembers(
  source: AsyncIterable<Buffer>, want: (name: string) => boolean, label: string,
): Promise<Map<string, Buffer>> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  const found = new Map<string, Buffer>();
  let longName: string | undefined; // GNU 'L' entry: the next header's real name
  let offset = 0;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header === null) break; // some writers omit the two zero end blocks
    if (header.length < BLOCK) throw new DatasetError(`${label}: archive is truncated (a tar header at byte ${offset} is cut short)`);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    checkHeader(header, offset, label);
    const size = parseSize(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 0x30); // NUL means a regular file (old tar)
    const name = longName ?? headerName(header);
    longName = undefined;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    offset += BLOCK;
    const isFile = type === "0" || type === "7";
    if (type === "L" || (isFile && want(name))) {
      const data = await reader.read(size);
      if (data === null || data.length < size) throw new DatasetError(`${label}: archive is truncated inside member ${name}`);
      if (type === "L") longName = cString(data);
      else found.set(name, data);
      await reader.skip(padded - size);
    } else if (!(await reader.skip(padded))) {
      throw new DatasetError(`${label}: archive is truncated inside member ${name}`);
    }
    offset += padded;
  }
  return found;
}

function checkHeader(h: Buffer, offset: number, label: string): void {
  // The checksum is the sum of all header bytes with the checksum field itself read as spaces.
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  const stored = parseInt(cString(h.subarray(148, 156)).trim() || "NaN", 8);
  if (stored !== sum) throw new DatasetError(`${label}: not a tar archive (bad header checksum at byte ${offset})`);
}

function headerName(h: Buffer): string {
  const name = cString(h.subarray(0, 100));
  // ustar splits long paths into prefix (345..500) + name.
  const prefix = h.subarray(257, 262).toString("latin1") === "ustar" ? cString(h.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

function parseSize(field: Buffer): number {
  // GNU base-256 for sizes >= 8 GiB: high bit set, big-endian binary in the remaining bytes.
  if (field[0] & 0x80) {
    let n = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return n;
  }
  return parseInt(cString(field).trim() || "0", 8);
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString("utf8");
}

/** Pulls exact byte counts out of a chunked stream. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;

  constructor(private it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) { this.done = true; break; }
      this.chunks.push(r.value);
      this.buffered += r.value.length;
    }
  }

  /** n bytes (fewer at the end of the stream), or null when the stream is already exhausted. */
  async read(n: number): Promise<Buffer | null> {
    await this.fill(n);
    if (this.buffered === 0 && n > 0) return null;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const take = Math.min(n, all.length);
    const out = all.subarray(0, take), rest = all.subarray(take);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** Discards n bytes, pulling chunk by chunk so skipped members never sit in memory; false if the stream ended first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      if (this.buffered === 0) {
        await this.fill(1);
        if (this.buffered === 0) return false;
      }
      const head = this.chunks[0];
      if (head.length <= n) { this.chunks.shift(); this.buffered -= head.length; n -= head.length; }
      else { this.chunks[0] = head.subarray(n); this.buffered -= n; n = 0; }
    }
    return true;
  }
}
