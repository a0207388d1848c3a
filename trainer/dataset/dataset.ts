// The in-memory form of every dataset: examples as uint8 RGB, height x width x 3 interleaved (the
// form shared/preprocess produces and the Worker's pixel upload uses), one label index each.
// Batches are turned into float tensors by shared/preprocess `pixelsToTensor` only when used.

export interface Dataset {
  /** Class names; label i means labels[i]. */
  classes: string[];
  /** Number of examples. */
  count: number;
  /** Example size [height, width]; every example has height*width*3 bytes. */
  size: [number, number];
  /** count * height * width * 3 bytes, example after example. */
  images: Uint8Array;
  /** count label indices. */
  labels: Uint8Array;
  /** Where each example came from (file path, or "data_batch_1.bin#17"), for reports and errors. */
  sources?: string[];
}

/** The bytes of example i (a view, no copy). */
export function example(ds: Dataset, i: number): Uint8Array {
  const len = ds.size[0] * ds.size[1] * 3;
  return ds.images.subarray(i * len, (i + 1) * len);
}

/** A new dataset holding the given examples of `ds`, in that order. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const len = ds.size[0] * ds.size[1] * 3;
  const images = new Uint8Array(indices.length * len), labels = new Uint8Array(indices.length);
  const sources = ds.sources ? new Array<string>(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    images.set(ds.images.subarray(i * len, (i + 1) * len), k * len);
    labels[k] = ds.labels[i];
    if (sources) sources[k] = ds.sources![i];
  }
  return { classes: ds.classes, count: indices.length, size: ds.size, images, labels, sources };
}
