// The Wasm JPEG decoder (shared/decode/jpeg.wasm: libjpeg-turbo 2.1.5.1 with edge-cnn's jdhuff and
// jdcoefct patches) against Debian's native libjpeg-turbo 2.1.5 `djpeg`, byte for byte, at 1, 1/2,
// 1/4 and 1/8 (islow IDCT, fancy upsampling: decoder.c's settings and djpeg's defaults). The patches
// only change how the entropy-coded bits are walked and how a multi-scan file's coefficients are
// stored, so any difference is a bug in them; the 1/8 decodes exercise the AC skip table, and the
// quality-100 noise images have many blocks with no end-of-block code (the last coefficient set),
// where a miscounted position would show. The progressive and multi-scan files exercise the compact
// coefficient store (1x1 and 2x2 inverse DCTs: luma at 1/8, luma at 1/4 and chroma at 1/8 in
// 4:2:0): cjpeg's default progressive script refines AC coefficients bit by bit, whose parsing
// depends on which coefficients are already nonzero. Inputs are generated here: sharp for baseline,
// progressive, 4:4:4, greyscale and CMYK, cjpeg (libjpeg-turbo-progs, installed by .ci/run, as djpeg
// is) for 4:2:2, restart markers, progressive noise and one sequential scan per component.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JpegDecoder } from "../../shared/decode/jpeg.ts";
import { JPEG_WASM_URL } from "../../trainer/decoders-node.ts";

const DJPEG = "/usr/bin/djpeg", CJPEG = "/usr/bin/cjpeg";
const tools = existsSync(DJPEG) && existsSync(CJPEG);

/** Pixels of djpeg's PPM (RGB) or PGM (greyscale) output. */
function djpeg(file: string, denom: number): { width: number; height: number; data: Buffer } {
  const out = execFileSync(DJPEG, ["-scale", `1/${denom}`, "-dct", "int", "-pnm", file], { maxBuffer: 1 << 28 });
  // "P6\n<w> <h>\n255\n" (or P5): four whitespace-separated fields, then one whitespace byte.
  const head = /^P[56]\s+(\d+)\s+(\d+)\s+255\s/.exec(out.subarray(0, 64).toString("latin1"));
  if (!head) throw new Error(`unexpected djpeg output for ${file}`);
  return { width: Number(head[1]), height: Number(head[2]), data: out.subarray(head[0].length) };
}

let dir = "";
const files: Array<[string, string]> = [];

beforeAll(async () => {
  if (!tools) return;
  dir = mkdtempSync(path.join(os.tmpdir(), "edge-cnn-djpeg-"));
  // A photo with fine detail (a fixture upscaled, plus noise), and pure noise.
  const photo = await sharp(path.join(import.meta.dirname, "../fixtures/edge/dog-500x375-progressive.jpg")).resize(1001, 757).raw().toBuffer();
  for (let i = 0; i < photo.length; i++) photo[i] = Math.max(0, Math.min(255, photo[i] + ((i * 2654435761) >>> 28) - 8));
  const noise = Buffer.alloc(203 * 149 * 3);
  for (let i = 0, s = 12345; i < noise.length; i++) noise[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  const img = (b: Buffer, width: number, height: number) => sharp(b, { raw: { width, height, channels: 3 } });
  const P = () => img(photo, 1001, 757), N = () => img(noise, 203, 149);
  const made: Array<[string, Promise<Buffer> | Buffer]> = [
    ["photo baseline 4:2:0", P().jpeg({ quality: 85 }).toBuffer()],
    ["photo progressive 4:2:0", P().jpeg({ quality: 85, progressive: true }).toBuffer()],
    ["photo baseline 4:4:4", P().jpeg({ quality: 90, chromaSubsampling: "4:4:4" }).toBuffer()],
    ["photo greyscale", P().toColourspace("b-w").jpeg({ quality: 85 }).toBuffer()],
    ["photo CMYK", P().toColourspace("cmyk").jpeg({ quality: 85 }).toBuffer()],
    ["noise quality 100, 4:4:4", N().jpeg({ quality: 100, chromaSubsampling: "4:4:4" }).toBuffer()],
    ["noise quality 95, 4:2:0", N().jpeg({ quality: 95 }).toBuffer()],
  ];
  const ppm = path.join(dir, "photo.ppm");
  writeFileSync(ppm, Buffer.concat([Buffer.from("P6\n1001 757\n255\n"), photo]));
  made.push(["photo 4:2:2, restart markers", execFileSync(CJPEG, ["-sample", "2x1", "-restart", "1", "-quality", "85", ppm])]);
  made.push(["photo progressive, restart markers", execFileSync(CJPEG, ["-progressive", "-restart", "2", "-quality", "85", ppm])]);
  const noisePpm = path.join(dir, "noise.ppm"), scans = path.join(dir, "scans.txt");
  writeFileSync(noisePpm, Buffer.concat([Buffer.from("P6\n203 149\n255\n"), noise]));
  made.push(["noise progressive quality 95, 4:2:0", execFileSync(CJPEG, ["-progressive", "-quality", "95", noisePpm])]);
  made.push(["noise progressive quality 100, 4:4:4", execFileSync(CJPEG, ["-progressive", "-sample", "1x1", "-quality", "100", noisePpm])]);
  writeFileSync(scans, "0;\n1;\n2;\n");
  made.push(["photo sequential, a scan per component", execFileSync(CJPEG, ["-scans", scans, "-quality", "85", ppm])]);
  for (const [name, bytes] of made) {
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.jpg`);
    writeFileSync(file, await bytes);
    files.push([name, file]);
  }
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!tools)("the Wasm JPEG decoder against native djpeg", () => {
  it("gives djpeg's pixels exactly at 1, 1/2, 1/4 and 1/8", () => {
    const jpeg = new JpegDecoder(new WebAssembly.Module(readFileSync(JPEG_WASM_URL)));
    expect(files.length).toBe(12);
    for (const [name, file] of files) {
      for (const denom of [1, 2, 4, 8] as const) {
        const ref = djpeg(file, denom), ours = jpeg.decode(new Uint8Array(readFileSync(file)), denom);
        expect([ours.width, ours.height], `${name} at 1/${denom}`).toEqual([ref.width, ref.height]);
        expect(ours.data.length, `${name} at 1/${denom}`).toBe(ref.data.length);
        expect(Buffer.compare(Buffer.from(ours.data), ref.data), `${name} at 1/${denom}: pixels differ from djpeg's`).toBe(0);
      }
    }
  });

  // Damaged data walks the patched paths where valid files never go: codes that run past the band
  // or the block, values that overflow, scans cut short. libjpeg decodes most such files with a
  // warning, and the patches must give its pixels then too (a first multi-code skip table did not).
  // djpeg runs without SIMD (JSIMD_FORCENONE), whose inverse DCTs differ from the C ones on the huge
  // coefficients damage makes. One difference is not the patches' and is kept out: djpeg smooths the
  // blocks of a progressive file whose AC scans did not all arrive (a file that lost a scan, or had
  // the unused ones removed), which decoder.c turns off; the seeds are fixed, and none of these 240
  // loses a scan that way (1 in 1,500 did in a longer run).
  it("gives djpeg's pixels, or refuses as it does, for 240 damaged files", () => {
    const jpeg = new JpegDecoder(new WebAssembly.Module(readFileSync(JPEG_WASM_URL)));
    const source = (name: string): Buffer => readFileSync(files.find(([n]) => n === name)![1]);
    const progressive = source("photo progressive 4:2:0"), baseline = source("photo baseline 4:2:0");
    const damaged = path.join(dir, "damaged.jpg");
    let seed = 1, decoded = 0;
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let t = 0; t < 240; t++) {
      // progressive at 1/8 and 1/4 (the compact store), baseline at 1/8 (the skip table) and 1/2
      const isProgressive = t % 2 === 0, bytes = Buffer.from(isProgressive ? progressive : baseline);
      const denom = t % 4 < 2 ? 8 : isProgressive ? 4 : 2;
      for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) bytes[600 + Math.floor(random() * (bytes.length - 700))] = Math.floor(random() * 256);
      writeFileSync(damaged, bytes);
      const ref = spawnSync(DJPEG, ["-scale", `1/${denom}`, "-dct", "int", "-pnm", damaged], { env: { ...process.env, JSIMD_FORCENONE: "1" }, maxBuffer: 1 << 26 });
      // djpeg exits 2 after warnings, 1 when it refuses the file
      const head = ref.status !== 1 ? /^P[56]\s+\d+\s+\d+\s+255\s/.exec(ref.stdout.subarray(0, 64).toString("latin1")) : null;
      let ours: Uint8Array | Uint8ClampedArray | null = null;
      try { ours = jpeg.decode(new Uint8Array(bytes), denom).data; } catch { ours = null; }
      const what = `damaged file ${t} (${isProgressive ? "progressive" : "baseline"}) at 1/${denom}`;
      expect(ours !== null, `${what}: djpeg ${head ? "decodes" : "refuses"} it, ours ${ours ? "decodes" : "refuses"} it`).toBe(head !== null);
      if (!head || !ours) continue;
      decoded++;
      expect(Buffer.compare(Buffer.from(ours), ref.stdout.subarray(head[0].length)), `${what}: pixels differ from djpeg's`).toBe(0);
    }
    expect(decoded).toBeGreaterThan(200); // most damage only warns
  });
});
