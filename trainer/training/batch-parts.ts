// How data-parallel training cuts its work: a batch into `parts` contiguous parts of near-equal size,
// each with its own gradient buffer (the buffers are summed in part order); the parts into contiguous
// runs, one per worker thread; and the parameters into one contiguous range per thread for the update.
// With a fixed number of parts every sum is done in the same order whatever the number of threads,
// which is what makes `--deterministic` bit-identical for any `--threads`.

/** Item range [start, end) of piece i when `total` items are cut into `pieces` near-equal runs. */
export function pieceRange(total: number, pieces: number, i: number): [number, number] {
  return [Math.floor((i * total) / pieces), Math.floor(((i + 1) * total) / pieces)];
}

/**
 * Parts per batch under --deterministic: bit-identical for any thread count and useful up to this many
 * threads. Smaller parts cost more per example (seed-cnn, batch 100: 4 parts of 25 take ~15% longer on
 * one thread than one part of 100).
 */
export const DETERMINISTIC_PARTS = 4;
