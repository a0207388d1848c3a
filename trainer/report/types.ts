// The data a report is drawn from. Every part is optional: the report draws only what is present, so
// `train`, `evaluate` and `crossval` fill in what they have. Accuracies, precisions, recalls and
// scores are fractions in [0, 1] (drawn as per cent); losses are mean cross-entropy per image.

/** Training loss of one optimiser step. NaN/Infinity (a diverged run) is allowed and not drawn. */
export interface StepPoint {
  step: number;
  loss: number;
}

/** What is known at the end of one epoch (epochs count from 1). */
export interface EpochPoint {
  epoch: number;
  /** Global step number at the end of this epoch; used to place `valLoss` on the loss chart. When
   *  absent it is estimated as epoch / lastEpoch * lastStep. */
  step?: number;
  trainAccuracy?: number;
  /** Mean training loss over the epoch. */
  trainLoss?: number;
  valAccuracy?: number;
  valLoss?: number;
  /** Wall-clock seconds this epoch took. */
  seconds?: number;
}

export interface ClassMetrics {
  label: string;
  /** Of the images predicted as this class, the share that really are (0 when none was predicted). */
  precision: number;
  /** Of the images of this class, the share predicted right (0 when the class has no images). */
  recall: number;
  /** Per-class accuracy: the same number as recall. */
  accuracy: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Number of images of this class (the row sum of the confusion matrix). */
  support: number;
}

export interface Evaluation {
  /** Share of images classified right. */
  accuracy: number;
  /** Mean cross-entropy loss, if computed. */
  loss?: number;
  /** Class names, in label-index order. */
  labels: string[];
  /** confusion[trueLabel][predictedLabel] = count of images. */
  confusion: number[][];
  /** Computed from `confusion` with `perClassMetrics` when absent. */
  perClass?: ClassMetrics[];
  /** What was evaluated, e.g. "validation (1000 images)" or a folder path. */
  dataset?: string;
}

/** One image for the sample grid: uint8 RGB, height x width x 3 interleaved (the Dataset form). */
export interface Sample {
  rgb: Uint8Array;
  /** [height, width] */
  size: [number, number];
  /** True label. */
  label: string;
  /** Predicted label. */
  predicted: string;
  /** Probability of the predicted label. */
  score: number;
  /** Where the image came from (file path, "data_batch_1.bin#17"); kept in metrics.json. */
  source?: string;
}

export interface Crossval {
  /** Accuracy of each split. */
  accuracies: number[];
  /** Computed with `meanStd(accuracies)` when absent. */
  mean?: number;
  std?: number;
}

export interface ReportData {
  /** Shown as the page heading, e.g. "photos · seed-cnn · 30 epochs". */
  title: string;
  /** The command line that produced the run. */
  command?: string;
  /** Path of the model file written or evaluated. */
  model?: string;
  /** ISO time stamp; now when absent. */
  createdAt?: string;
  /** Total wall-clock seconds of the run; the sum of the epochs' seconds when absent. */
  seconds?: number;
  steps?: StepPoint[];
  epochs?: EpochPoint[];
  evaluation?: Evaluation;
  samples?: Sample[];
  crossval?: Crossval;
  /** Anything else worth keeping (hyper-parameters, dataset sizes...): a table in index.html and a
   *  field of metrics.json. */
  extra?: Record<string, unknown>;
}

export interface ReportOptions {
  /** Pixel density of the PNGs relative to the SVG layout (2 = 1800x1000 for a 900x500 chart, sharp on
   *  high-DPI screens; index.html shows them at layout size). Default 2. */
  scale?: number;
  /** At most this many samples are drawn (the first ones). Default 48. */
  maxSamples?: number;
}

export interface ReportImage {
  /** File name inside the report folder, e.g. "loss.png". */
  file: string;
  /** Pixel size of the PNG (layout size x scale). */
  width: number;
  height: number;
  /** One line saying what the picture shows (the alt text). */
  alt: string;
}

export interface ReportResult {
  dir: string;
  /** Every file written, relative to `dir` (index.html, metrics.json and the PNGs). */
  files: string[];
  images: ReportImage[];
}
