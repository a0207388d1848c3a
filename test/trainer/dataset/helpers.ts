// Fixture builders for the data tests: temporary folders, a minimal tar writer and CIFAR-10 records.
// Everything is generated in os.tmpdir() at run time; no dataset is committed.

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const created: string[] = [];

/** A fresh temporary folder; call `afterAll(removeTempDirs)` in the test file to clean up. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `edge-cnn-${prefix}-`));
  created.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of created.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** A ustar archive of regular files (and, for names over 100 bytes, GNU 'L' long-name entries). */
export function makeTar(files: Array<{ name: string; data: Uint8Array }>): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    if (Buffer.byteLength(f.name) > 100) {
      const nameBytes = Buffer.from(f.name + "\0");
      blocks.push(header("././@LongLink", nameBytes.length, "L"), pad(nameBytes));
    }
    blocks.push(header(f.name.slice(0, 100), f.data.length, "0"), pad(Buffer.from(f.data)));
  }
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(blocks);
}

function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, "utf8");
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write(size.toString(8).padStart(11, "0") + "\0", 124);
  h.write("00000000000\0", 136);
  h.write(type, 156);
  h.write("ustar\0" + "00", 257, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return h;
}

function pad(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
}

/**
 * n CIFAR-10 records whose content encodes where they came from: label = (batch + r) % 10, and the
 * planes R, G, B filled with r, 100 + batch, 200 + (pixel % 50). Pixel 0 of the R plane is set to
 * 255 so the planar -> interleaved conversion is visible.
 */
export function cifarRecords(batch: number, n: number): Buffer {
  const out = Buffer.alloc(n * 3073);
  for (let r = 0; r < n; r++) {
    const o = r * 3073;
    out[o] = (batch + r) % 10;
    for (let p = 0; p < 1024; p++) {
      out[o + 1 + p] = p === 0 ? 255 : r;
      out[o + 1 + 1024 + p] = 100 + batch;
      out[o + 1 + 2048 + p] = 200 + (p % 50);
    }
  }
  return out;
}
