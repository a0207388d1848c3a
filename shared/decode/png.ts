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
  return (await decodePngStream([bytes], denom)).pixels;
}

/** What a streamed decode found: the pixels, and the first eXIf chunk (its orientation is the caller's to apply). */
export interface PngStreamResult {
  pixels: Pixels;
  exif: Uint8Array | null;
}

/**
 * Decodes a PNG from its bytes as they arrive (a request body, say), at 1/denom: the compressed data
 * is inflated while later bytes are still on their way, so neither the file nor the image is ever
 * held whole. An error thrown by `source` (an upload over its size limit) passes through unchanged.
 */
export async function decodePngStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, denom: ScaleDenom = 1): Promise<PngStreamResult> {
  const chunks = new ChunkReader();
  let ihdr: Ihdr | undefined, palette: Uint8Array | undefined, trns: Uint8Array | undefined, exif: Uint8Array | null = null;
  let image: ImageData | undefined;
  try {
    for await (const part of source) {
      for (const event of chunks.push(part)) {
        if (event.type === "IDAT") {
          image ??= new ImageData(checkedHeader(ihdr, palette), palette, trns, denom);
          await image.write(event.data);
        } else if (event.type === "IHDR" && event.data.length >= 13) {
          const dv = new DataView(event.data.buffer, event.data.byteOffset, 13), d = event.data;
          ihdr = { width: dv.getUint32(0), height: dv.getUint32(4), depth: d[8], colour: d[9], interlace: d[12] };
        } else if (event.type === "PLTE") palette = event.data;
        else if (event.type === "tRNS") trns = event.data;
        else if (event.type === "eXIf") exif ??= event.data;
      }
      if (chunks.ended) break;
    }
    const cutOff = chunks.cutOff();
    if (cutOff) fail(`the ${cutOff} chunk is cut off (the file is truncated)`);
    if (!image) {
      checkedHeader(ihdr, palette); // the header's faults first, as for a file with image data
      fail("there is no image data (IDAT)");
    }
    return { pixels: await image.finish(), exif };
  } catch (e) {
    await image?.abort();
    throw e;
  }
}

/** Chunks (4-byte length, 4-byte type, data, 4-byte CRC) after the signature, from bytes in any pieces. */
class ChunkReader {
  ended = false;
  private skip = 8; // the signature (the header reader has checked it)
  private head = new Uint8Array(8);
  private headFilled = 0;
  private type = "";
  private left = 0; // data bytes of the current chunk still to come
  private crcLeft = 0;
  private seen = 0; // bytes of the current chunk so far, header included
  private kept: Uint8Array[] | null = null; // the data of a chunk handed out whole

  /** The chunks' data as it arrives: IDAT in pieces (an empty one at its start), IHDR/PLTE/tRNS/eXIf whole; IEND ends. */
  *push(part: Uint8Array): Generator<{ type: string; data: Uint8Array }> {
    for (let i = 0; i < part.length && !this.ended;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, part.length - i);
        this.skip -= n; i += n;
      } else if (this.headFilled < 8) {
        const n = Math.min(8 - this.headFilled, part.length - i);
        this.head.set(part.subarray(i, i + n), this.headFilled);
        this.headFilled += n; this.seen += n; i += n;
        if (this.headFilled < 8) break;
        this.left = new DataView(this.head.buffer).getUint32(0);
        this.type = String.fromCharCode(...this.head.subarray(4, 8));
        this.crcLeft = 4;
        this.kept = KEPT.has(this.type) ? [] : null;
        if (this.type === "IDAT") yield { type: "IDAT", data: new Uint8Array(0) };
      } else if (this.left > 0) {
        const n = Math.min(this.left, part.length - i), data = part.subarray(i, i + n);
        this.left -= n; this.seen += n; i += n;
        if (this.type === "IDAT") yield { type: "IDAT", data };
        else this.kept?.push(data.slice());
      } else {
        const n = Math.min(this.crcLeft, part.length - i);
        this.crcLeft -= n; this.seen += n; i += n;
        if (this.crcLeft > 0) break;
        if (this.kept) yield { type: this.type, data: concat(this.kept) };
        if (this.type === "IEND") this.ended = true;
        this.headFilled = 0; this.seen = 0; this.kept = null;
      }
    }
  }

  /** At the end of the input: the type of a chunk that was cut off, or null. Fewer than 12 bytes of a last chunk are ignored. */
  cutOff(): string | null {
    return !this.ended && this.seen >= 12 ? this.type : null;
  }
}

/** Chunk types whose data the decoder needs whole. */
const KEPT = new Set(["IHDR", "PLTE", "tRNS", "eXIf", "IEND"]);

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** The header, if it describes a PNG this decoder can read (palette included). */
function checkedHeader(ihdr: Ihdr | undefined, palette: Uint8Array | undefined): Ihdr {
  if (!ihdr) fail("there is no IHDR chunk");
  const { depth, colour, interlace } = ihdr;
  if (!CHANNELS[colour] || !DEPTHS[colour].includes(depth)) fail(`colour type ${colour} with bit depth ${depth} is not a PNG format`);
  if (interlace > 1) fail(`interlace method ${interlace} is not a PNG format`);
  if (colour === 3 && !palette) fail("the palette image has no PLTE chunk");
  return ihdr;
}

/** The image data: inflates what it is given and folds each scanline into the reduced image as it arrives. */
class ImageData {
  private readonly stream = new DecompressionStream("deflate");
  private readonly writer = this.stream.writable.getWriter();
  private readonly reader = this.stream.readable.getReader();
  private readonly draining: Promise<void>;
  private readonly reducer: Reducer;
  private readonly rowsLeft: () => boolean;

  constructor(ihdr: Ihdr, palette: Uint8Array | undefined, trns: Uint8Array | undefined, denom: ScaleDenom) {
    const { width, height, depth, colour, interlace } = ihdr;

    const alpha = colour === 4 || colour === 6 || trns !== undefined, grey = colour === 0 || colour === 4;
    const reducer = (this.reducer = new Reducer(width, height, denom, ((grey ? 1 : 3) + (alpha ? 1 : 0)) as Pixels["channels"], interlace === 1));
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
    this.rowsLeft = () => pass < plan.length;

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
    this.draining = (async () => {
      try {
        for (;;) {
          const { done, value } = await this.reader.read();
          if (done) return;
          consume(value);
        }
      } catch (e) {
        await this.reader.cancel().catch(() => {});
        if (e instanceof PngDecodeError) throw e;
        fail(`its compressed data is damaged (${e instanceof Error ? e.message : String(e)})`);
      }
    })();
    this.draining.catch(() => {}); // surfaces through write() or finish()
  }

  /** Hands compressed bytes to the inflater, in slices, each once the stream wants more: one 20 MB IDAT written whole would be inflated whole into the stream's queue. */
  async write(data: Uint8Array): Promise<void> {
    for (let at = 0; at < data.length; at += FEED_BYTES) {
      try {
        await this.writer.ready;
        await this.writer.write(data.subarray(at, at + FEED_BYTES) as Uint8Array<ArrayBuffer>);
      } catch {
        await this.draining; // the inflater or a scanline failed: its reason
        fail("its compressed data is damaged");
      }
    }
  }

  async finish(): Promise<Pixels> {
    await this.writer.close().catch(() => {}); // a failure surfaces through the reader
    await this.draining;
    if (this.rowsLeft()) fail("the image data ends early (the file is truncated)");
    return this.reducer.finish();
  }

  /** Stops the inflater after a failure elsewhere. */
  async abort(): Promise<void> {
    await this.writer.abort().catch(() => {});
    await this.reader.cancel().catch(() => {});
  }
}

/** Compressed bytes handed to the inflater at a time. */
const FEED_BYTES = 64 * 1024;

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
