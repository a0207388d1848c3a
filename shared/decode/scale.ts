// The decode scale rule, the same for every place that classifies (trainer, Worker, widget): from
// the image header alone, the largest reduction 1/2^k (k <= 3, what libjpeg's reduced inverse DCT
// offers) that still leaves the image's short side at least DECODE_MARGIN times the model input's
// larger side. The model only sees a centre square area-resized to its input, so a decode several
// times bigger than that input keeps the area average meaningful, while a 12 MP photo (4032x3024)
// decodes to 504x378 for a 32x32 model and never exists at full size.

/** The decoded short side is at least this many times the model's input side. */
export const DECODE_MARGIN = 4;

/** Decode reductions offered by every decoder: 1 (full size), 1/2, 1/4, 1/8. */
export type ScaleDenom = 1 | 2 | 4 | 8;

/**
 * The scale denominator for an image of `width` x `height` (stored, before orientation; the short
 * side is the same either way) classified by a model with input `size` [height, width].
 */
export function decodeScaleDenom(width: number, height: number, size: readonly [number, number]): ScaleDenom {
  const need = DECODE_MARGIN * Math.max(size[0], size[1]);
  const short = Math.min(width, height);
  for (const denom of [8, 4, 2] as const) {
    if (Math.ceil(short / denom) >= need) return denom;
  }
  return 1;
}

/** The decoded size at 1/denom, rounded up as libjpeg does (jdiv_round_up). */
export function scaledSize(width: number, height: number, denom: ScaleDenom): { width: number; height: number } {
  return { width: Math.ceil(width / denom), height: Math.ceil(height / denom) };
}
