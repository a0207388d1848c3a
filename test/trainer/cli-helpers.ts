// Shared pieces of the CLI tests: running the CLI in-process, and generated photo folders.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { Rng } from "../../shared/rng.ts";
import { main } from "../../trainer/cli.ts";

/** Runs the CLI in-process; returns exit code, stdout lines and stderr text. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  let err = "";
  const write = process.stderr.write;
  process.stderr.write = ((s: string | Uint8Array) => { err += String(s); return true; }) as typeof process.stderr.write;
  try {
    const code = await main(argv, (s) => lines.push(s));
    return { code, out: lines.join("\n"), err };
  } finally {
    process.stderr.write = write;
  }
}

/** One sub-folder per colour, `perClass` PNG photos of `side` x `side` noise tinted that colour. */
export async function makeColourFolder(dir: string, colours: Record<string, [number, number, number]>, perClass: number, side: number, seed = 5): Promise<void> {
  const rng = new Rng(seed);
  for (const [name, tint] of Object.entries(colours)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(side * side * 3);
      for (let p = 0; p < side * side; p++) for (let k = 0; k < 3; k++) px[p * 3 + k] = Math.min(255, tint[k] + rng.int(90));
      await sharp(px, { raw: { width: side, height: side, channels: 3 } }).png().toFile(join(dir, name, `${name}-${i}.png`));
    }
  }
}
