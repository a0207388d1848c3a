// The PNG decoder every place that classifies runs, in TypeScript: the compressed data is inflated
// as a stream (DecompressionStream, native zlib in Node, workerd and browsers), and each row is
// unfiltered and folded into a box-reduced image at 1/denom (the shared scale rule's factor) as it
// arrives, so a 12 MP PNG never exists at full size: memory is a few rows plus the reduced image
// (plus, for an interlaced PNG, 28 bytes of sums per reduced pixel).
//
// Output: 8-bit pixels at ceil(width / denom) x ceil(height / denom), with the channels the file
// has (grey 1, grey+alpha 2, RGB 3, RGBA 4; palette as RGB, tRNS as alpha). Each output pixel averages the
// denom x denom block it covers (fewer at the right and bottom edges): alpha is the plain mean,
// colour the alpha-weighted mean (so transparent pixels lend no colour), both rounded half up with
// integer arithmetic, identical on every runtime. At denom 1 that is exactly the stored pixel.
// 16-bit samples keep their high byte (as libvips and the png crate do). Gamma (gAMA), colour profiles (iCCP, sRGB, cHRM) are not
// applied, as by the other decoders. Not oriented (apply eXIf's orientation afterwards).

import type { Pixels } from "../preprocess.ts";
import type { ScaleDenom } from "./scale.ts";

/** The PNG is damaged, truncated or of a kind PNG does not define; the message says which. */
export class PngDecodeError extends Error {
  override name = "PngDecodeError";
}

interface Ihdr { width: number; height: number; depth: number; colour: number; interlace: number }

/** Samples per pixel by colour type: grey, -, RGB, palette, grey+alpha, -, RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Adam7: x0, y0, dx, dy of each of the seven passes. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

function fail(message: string): never {
  throw new PngDecodeError(message);
}

/** Decodes `bytes` (a PNG whose header was read and size checked) at 1/denom. */
export async function decodePng(bytes: Uint8Array, denom: ScaleDenom = 1): Promise<Pixels> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let ihdr: Ihdr | undefined, palette: Uint8Array | undefined, trns: Uint8Array | undefined, ended = false;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 12 <= bytes.length && !ended;) {
    const length = dv.getUint32(at), type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (at + 12 + length > bytes.length) fail(`the ${type} chunk is cut off (the file is truncated)`);
    if (type === "IHDR" && length >= 13) {
      ihdr = { width: dv.getUint32(at + 8), height: dv.getUint32(at + 12), depth: data[8], colour: data[9], interlace: data[12] };
    } else if (type === "PLTE") palette = data;
    else if (type === "tRNS") trns = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") ended = true;
    at += 12 + length;
  }
  if (!ihdr) fail("there is no IHDR chunk");
  const { width, height, depth, colour, interlace } = ihdr;
  if (!CHANNELS[colour] || !DEPTHS[colour].includes(depth)) fail(`colour type ${colour} with bit depth ${depth} is not a PNG format`);
  if (interlace > 1) fail(`interlace method ${interlace} is not a PNG format`);
  if (colour === 3 && !palette) fail("the palette image has no PLTE chunk");
  if (idat.length === 0) fail("there is no image data (IDAT)");

  const alpha = colour === 4 || colour === 6 || trns !== undefined, grey = colour === 0 || colour === 4;
  const reducer = new Reducer(width, height, denom, ((grey ? 1 : 3) + (alpha ? 1 : 0)) as Pixels["channels"], interlace === 1);
  const toRgba = rowConverter(ihdr, palette, trns);
  const bitsPerPixel = CHANNELS[colour] * depth, bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = interlace ? ADAM7 : [[0, 0, 1, 1]];
  // The scanlines of every pass, in order, as the inflated stream delivers them.
  const plan: Array<{ y0: number; x0: number; dx: number; dy: number; cols: number; rows: number; stride: number }> = [];
  for (const [x0, y0, dx, dy] of passes) {
    const cols = Math.ceil((width - x0) / dx), rows = Math.ceil((height - y0) / dy);
    if (cols > 0 && rows > 0) plan.push({ x0, y0, dx, dy, cols, rows, stride: Math.ceil((cols * bitsPerPixel) / 8) });
  }
  const widest = Math.max(...plan.map((p) => p.stride));
  let cur = new Uint8Array(widest + 1), prev = new Uint8Array(widest + 1);
  const rgba = new Uint8Array(width * 4);
  let pass = 0, row = 0, filled = 0;

  const consume = (chunk: Uint8Array): void => {
    for (let i = 0; i < chunk.length;) {
      if (pass >= plan.length) fail("there is more image data than the header's size allows");
      const p = plan[pass], need = p.stride + 1;
      const n = Math.min(need - filled, chunk.length - i);
      cur.set(chunk.subarray(i, i + n), filled);
      filled += n; i += n;
      if (filled < need) break;
      unfilter(cur, prev, p.stride, bpp, row === 0);
      toRgba(cur.subarray(1, need), p.cols, rgba);
      reducer.add(rgba, p.y0 + row * p.dy, p.x0, p.dx, p.cols);
      [cur, prev] = [prev, cur];
      filled = 0;
      if (++row === p.rows) { pass++; row = 0; }
    }
  };
  await inflate(idat, consume);
  if (pass < plan.length) fail("the image data ends early (the file is truncated)");
  return reducer.finish();
}

/** Compressed bytes handed to the inflater at a time. */
const FEED_BYTES = 64 * 1024;

/** Streams the zlib data of the IDAT chunks through DecompressionStream into `consume`. */
async function inflate(idat: Uint8Array[], consume: (chunk: Uint8Array) => void): Promise<void> {
  const stream = new DecompressionStream("deflate");
  const writer = stream.writable.getWriter(), reader = stream.readable.getReader();
  // In slices, each written once the stream wants more: one 20 MB IDAT written whole would be
  // inflated whole into the stream's queue, the full-size image this decoder exists to avoid.
  const feeding = (async () => {
    for (const chunk of idat) {
      for (let at = 0; at < chunk.length; at += FEED_BYTES) {
        await writer.ready;
        await writer.write(chunk.subarray(at, at + FEED_BYTES) as Uint8Array<ArrayBuffer>);
      }
    }
    await writer.close();
  })();
  feeding.catch(() => {}); // its failure surfaces through the reader too
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      consume(value);
    }
    await feeding;
  } catch (e) {
    await reader.cancel().catch(() => {});
    if (e instanceof PngDecodeError) throw e;
    fail(`its compressed data is damaged (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Reverses one scanline's filter in place (cur[0] is the filter type; prev is the previous line). */
function unfilter(cur: Uint8Array, prev: Uint8Array, stride: number, bpp: number, first: boolean): void {
  const type = cur[0];
  if (first) prev.fill(0, 0, stride + 1);
  switch (type) {
    case 0: return;
    case 1: for (let i = 1 + bpp; i <= stride; i++) cur[i] = (cur[i] + cur[i - bpp]) & 255; return;
    case 2: for (let i = 1; i <= stride; i++) cur[i] = (cur[i] + prev[i]) & 255; return;
    case 3:
      for (let i = 1; i <= stride; i++) cur[i] = (cur[i] + (((i > bpp ? cur[i - bpp] : 0) + prev[i]) >> 1)) & 255;
      return;
    case 4:
      for (let i = 1; i <= stride; i++) {
        const a = i > bpp ? cur[i - bpp] : 0, b = prev[i], c = i > bpp ? prev[i - bpp] : 0;
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        cur[i] = (cur[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
      return;
    default: fail(`a scanline has the unknown filter type ${type}`);
  }
}

/** A function that turns one unfiltered scanline of `cols` pixels into 8-bit RGBA. */
function rowConverter(h: Ihdr, palette: Uint8Array | undefined, trns: Uint8Array | undefined) {
  const { depth, colour } = h;
  const sample = (line: Uint8Array, i: number): number => { // the i-th sample at the file's bit depth
    if (depth === 8) return line[i];
    if (depth === 16) return (line[2 * i] << 8) | line[2 * i + 1];
    const perByte = 8 / depth, shift = 8 - depth * (1 + (i % perByte));
    return (line[Math.floor(i / perByte)] >> shift) & ((1 << depth) - 1);
  };
  const to8 = (v: number): number => depth === 16 ? v >> 8 : depth === 8 ? v : (v * 255) / ((1 << depth) - 1);
  const greyKey = colour === 0 && trns && trns.length >= 2 ? (trns[0] << 8) | trns[1] : -1;
  const rgbKey = colour === 2 && trns && trns.length >= 6 ? [(trns[0] << 8) | trns[1], (trns[2] << 8) | trns[3], (trns[4] << 8) | trns[5]] : null;
  return (line: Uint8Array, cols: number, out: Uint8Array): void => {
    for (let x = 0, o = 0; x < cols; x++, o += 4) {
      if (colour === 0) {
        const v = sample(line, x);
        out[o] = out[o + 1] = out[o + 2] = to8(v); out[o + 3] = v === greyKey ? 0 : 255;
      } else if (colour === 2) {
        const r = sample(line, 3 * x), g = sample(line, 3 * x + 1), b = sample(line, 3 * x + 2);
        out[o] = to8(r); out[o + 1] = to8(g); out[o + 2] = to8(b);
        out[o + 3] = rgbKey && r === rgbKey[0] && g === rgbKey[1] && b === rgbKey[2] ? 0 : 255;
      } else if (colour === 3) {
        const i = sample(line, x);
        if (3 * i + 2 >= palette!.length) fail(`a pixel uses palette entry ${i}, past the palette's end`);
        out[o] = palette![3 * i]; out[o + 1] = palette![3 * i + 1]; out[o + 2] = palette![3 * i + 2];
        out[o + 3] = trns && i < trns.length ? trns[i] : 255;
      } else if (colour === 4) {
        out[o] = out[o + 1] = out[o + 2] = to8(sample(line, 2 * x)); out[o + 3] = to8(sample(line, 2 * x + 1));
      } else {
        out[o] = to8(sample(line, 4 * x)); out[o + 1] = to8(sample(line, 4 * x + 1));
        out[o + 2] = to8(sample(line, 4 * x + 2)); out[o + 3] = to8(sample(line, 4 * x + 3));
      }
    }
  };
}

/**
 * Sums pixels into denom x denom blocks: alpha, and colour weighted by alpha. Rows of a
 * non-interlaced PNG arrive in order, so only one row of blocks is summed at a time; an interlaced
 * one revisits every row in each pass, so all blocks are kept until the end.
 */
class Reducer {
  private readonly ow: number;
  private readonly oh: number;
  private readonly out: Uint8Array;
  // Per block: sum a, sum r*a, g*a, b*a, and plain sum r, g, b (used where the block is fully
  // transparent, so that at denom 1 even invisible colours are kept). At most 64 * 255 * 255: u32.
  private readonly sums: Uint32Array;
  constructor(
    private readonly width: number, private readonly height: number, private readonly denom: number,
    private readonly channels: Pixels["channels"], private readonly interlaced: boolean,
  ) {
    this.ow = Math.ceil(width / denom);
    this.oh = Math.ceil(height / denom);
    this.out = new Uint8Array(this.ow * this.oh * channels);
    this.sums = new Uint32Array((interlaced ? this.oh : 1) * this.ow * 7);
  }

  /** Adds `cols` RGBA pixels of image row y, at x = x0, x0 + dx, ... */
  add(rgba: Uint8Array, y: number, x0: number, dx: number, cols: number): void {
    const { sums, denom } = this, oy = Math.floor(y / denom), base = this.interlaced ? oy * this.ow : 0;
    for (let i = 0, x = x0; i < cols; i++, x += dx) {
      const s = (base + Math.floor(x / denom)) * 7, r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2], a = rgba[4 * i + 3];
      sums[s] += a; sums[s + 1] += r * a; sums[s + 2] += g * a; sums[s + 3] += b * a;
      sums[s + 4] += r; sums[s + 5] += g; sums[s + 6] += b;
    }
    if (!this.interlaced && (y % denom === denom - 1 || y === this.height - 1)) {
      this.emit(oy, 0);
      sums.fill(0);
    }
  }

  /** The reduced image. */
  finish(): Pixels {
    if (this.interlaced) for (let oy = 0; oy < this.oh; oy++) this.emit(oy, oy * this.ow);
    return { width: this.ow, height: this.oh, channels: this.channels, data: this.out };
  }

  /** Writes block row oy from the sums at block index `base`: means rounded half up (edge blocks hold fewer pixels). */
  private emit(oy: number, base: number): void {
    const { ow, sums, denom, channels, out } = this;
    const colours = channels >= 3 ? 3 : 1, alpha = channels === 2 || channels === 4;
    const rows = Math.min(denom, this.height - oy * denom);
    for (let ox = 0; ox < ow; ox++) {
      const n = rows * Math.min(denom, this.width - ox * denom), s = 7 * (base + ox), a = sums[s], o = (oy * ow + ox) * channels;
      for (let c = 0; c < colours; c++) {
        out[o + c] = a > 0 ? Math.floor((2 * sums[s + 1 + c] + a) / (2 * a)) : Math.floor((2 * sums[s + 4 + c] + n) / (2 * n));
      }
      if (alpha) out[o + colours] = Math.floor((2 * a + n) / (2 * n));
    }
  }
}
