// A progressive JPEG stores each coefficient band of each component in its own scan. At 1/8 scale
// libjpeg computes a component whose reduced block is 1x1 from its DC coefficient alone, so the AC
// scans that only carry such components can be left out without changing a single output pixel
// (test/shared/decode-scale.test.ts checks this). For a phone photo at 1/8 that skips the luma AC
// data, most of the file, which is also most of the decoding time.
//
// Also read here, from the frame header and the first scan's: whether the JPEG is progressive or has
// several scans, and how many bytes of DCT coefficients libjpeg must hold for it (a multi-scan
// decode keeps every block of the image until its last scan).

/** Frame header facts used to plan a decode. */
export interface JpegFrame {
  progressive: boolean;
  /** Progressive, or sequential with a scan per component (jdinput.c's `has_multiple_scans`). */
  multiScan: boolean;
  width: number;
  height: number;
  components: Array<{ id: number; h: number; v: number }>;
}

const isStartOfFrame = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** The frame header (SOFn) and the first scan's, or null if there is no frame header before a scan. */
export function readJpegFrame(bytes: Uint8Array): JpegFrame | null {
  let frame: JpegFrame | null = null;
  for (const seg of segments(bytes)) {
    if (isStartOfFrame(seg.marker) && !frame) {
      const b = bytes.subarray(seg.body, seg.end);
      if (b.length < 6) return null;
      const components = [];
      for (let i = 0; i < b[5] && 6 + 3 * i + 2 < b.length; i++) {
        components.push({ id: b[6 + 3 * i], h: b[7 + 3 * i] >> 4, v: b[7 + 3 * i] & 15 });
      }
      // SOF2, SOF6, SOF10, SOF14 are progressive (Huffman or arithmetic, sequential or hierarchical).
      const progressive = (seg.marker & 3) === 2;
      frame = { progressive, multiScan: progressive, width: (b[3] << 8) | b[4], height: (b[1] << 8) | b[2], components };
    }
    if (seg.marker === 0xda) {
      // A sequential JPEG whose first scan leaves a component out has a scan per component (or group).
      if (frame && seg.end > seg.body) frame.multiScan ||= bytes[seg.body] < frame.components.length;
      return frame;
    }
  }
  return frame;
}

/**
 * Bytes of coefficient storage the decoder allocates for a multi-scan JPEG at 1/denom (0 for a
 * single-scan one, decoded block by block). libjpeg holds every block (64 int16, 128 bytes); the
 * edge-cnn patch to jdcoefct.c stores a block whose reduced inverse DCT is 1x1 in 10 bytes (its DC
 * and a nonzero mask) and one whose is 2x2 in 58 (25 values and the mask).
 */
export function coefficientBytes(frame: JpegFrame, denom: 1 | 2 | 4 | 8): number {
  if (!frame.multiScan || frame.components.length === 0 || frame.components.some((c) => c.h < 1 || c.v < 1)) return 0;
  const maxH = Math.max(...frame.components.map((c) => c.h)), maxV = Math.max(...frame.components.map((c) => c.v));
  const mcuCols = Math.ceil(frame.width / (8 * maxH)), mcuRows = Math.ceil(frame.height / (8 * maxV));
  const sizes = scaledBlockSizes(frame, denom);
  const blockBytes = (size: number) => (size === 1 ? 2 + 8 : size === 2 ? 25 * 2 + 8 : 128);
  return frame.components.reduce((sum, c) => sum + mcuCols * c.h * mcuRows * c.v * blockBytes(sizes.get(c.id)!), 0);
}

/**
 * libjpeg's reduced block size per component at 1/denom (jdmaster.c: chroma is scaled up through the
 * IDCT rather than upsampled, as far as the sampling factors allow).
 */
function scaledBlockSizes(frame: JpegFrame, denom: number): Map<number, number> {
  const maxH = Math.max(...frame.components.map((c) => c.h)), maxV = Math.max(...frame.components.map((c) => c.v));
  const min = 8 / denom, sizes = new Map<number, number>();
  for (const c of frame.components) {
    let s = min;
    while (s < 8 && (maxH * min) % (c.h * s * 2) === 0 && (maxV * min) % (c.v * s * 2) === 0) s *= 2;
    sizes.set(c.id, s);
  }
  return sizes;
}

/**
 * `bytes` without the progressive AC scans a 1/denom decode never reads, or `bytes` itself when
 * nothing can be left out (sequential JPEGs, scales above 1/8, chroma that needs its AC bands).
 */
export function withoutUnusedScans(bytes: Uint8Array, frame: JpegFrame, denom: number): Uint8Array {
  if (!frame.progressive || denom !== 8 || frame.components.some((c) => c.h < 1 || c.v < 1)) return bytes;
  const sizes = scaledBlockSizes(frame, denom);
  const keep: Array<[number, number]> = [];
  let from = 0, dropped = false;
  for (const seg of segments(bytes, true)) {
    if (seg.marker !== 0xda) continue;
    const b = bytes.subarray(seg.body, seg.end), n = b[0];
    if (b.length < 1 + 2 * n + 3) return bytes;
    const ss = b[1 + 2 * n];
    const ids = Array.from({ length: n }, (_, i) => b[1 + 2 * i]);
    if (ss > 0 && ids.every((id) => sizes.get(id) === 1)) {
      keep.push([from, seg.start]);
      from = seg.dataEnd; // skip the SOS segment and its entropy-coded data
      dropped = true;
    }
  }
  if (!dropped) return bytes;
  keep.push([from, bytes.length]);
  const out = new Uint8Array(keep.reduce((n, [a, b]) => n + b - a, 0));
  let at = 0;
  for (const [a, b] of keep) { out.set(bytes.subarray(a, b), at); at += b - a; }
  return out;
}

interface Segment { marker: number; start: number; body: number; end: number; dataEnd: number }

/**
 * The marker segments of a JPEG from SOI: header segments, and (with `scans`) every SOS with the end
 * of its entropy-coded data (the next marker that is not a stuffed 00 or a restart marker). Stops at
 * EOI or where the data is damaged (libjpeg then reports the damage itself).
 */
function* segments(bytes: Uint8Array, scans = false): Generator<Segment> {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return;
    const marker = bytes[at + 1];
    if (marker === 0xff) { at++; continue; }
    if (marker === 0xd9) return;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) return;
    let dataEnd = end;
    if (marker === 0xda) {
      if (!scans) { yield { marker, start: at, body: at + 4, end, dataEnd }; return; }
      // indexOf finds each 0xFF natively (a JS byte loop took 7 ms over a 5.5 MB photo)
      for (;;) {
        dataEnd = bytes.indexOf(0xff, dataEnd);
        if (dataEnd < 0 || dataEnd + 1 >= bytes.length) return;
        const next = bytes[dataEnd + 1];
        if (next !== 0 && !(next >= 0xd0 && next <= 0xd7)) break;
        dataEnd++;
      }
      while (bytes[dataEnd + 1] === 0xff) dataEnd++; // fill bytes before the marker
    }
    yield { marker, start: at, body: at + 4, end, dataEnd };
    at = dataEnd;
  }
}
