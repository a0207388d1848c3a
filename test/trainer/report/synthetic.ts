// Synthetic report data for the report tests and for looking at the pictures by eye:
//   npx tsx test/trainer/report/synthetic.ts /tmp/report-demo

import { confusionMatrix, perClassMetrics } from "../../../trainer/report/metrics.ts";
import type { ReportData, Sample } from "../../../trainer/report/types.ts";

/** Deterministic uniform [0, 1) numbers (mulberry32). */
export function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32x32-ish picture: a coloured disc or square on a gradient, so the sample grid shows shapes. */
export function picture(h: number, w: number, seed: number): Uint8Array {
  const rnd = rand(seed);
  const px = new Uint8Array(h * w * 3);
  const bg = [rnd() * 255, rnd() * 255, rnd() * 255], fg = [rnd() * 255, rnd() * 255, rnd() * 255];
  const cx = w * (0.3 + rnd() * 0.4), cy = h * (0.3 + rnd() * 0.4), rad = Math.min(h, w) * (0.15 + rnd() * 0.2);
  const square = rnd() < 0.5;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const inside = square ? Math.abs(x - cx) < rad && Math.abs(y - cy) < rad : (x - cx) ** 2 + (y - cy) ** 2 < rad * rad;
      for (let c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = inside ? fg[c] : bg[c] * (0.5 + (0.5 * y) / h);
    }
  }
  return px;
}

export interface SyntheticOptions {
  classes?: string[];
  stepsPerEpoch?: number;
  epochs?: number;
  samples?: number;
  nanSteps?: number;
  seed?: number;
}

export const CIFAR_LABELS = ["airplane", "automobile", "bird", `<b>&"cat"`, "deer", "dog", "frog", "horse", "ship", "truck"];

export function syntheticReport(o: SyntheticOptions = {}): ReportData {
  const classes = o.classes ?? CIFAR_LABELS;
  const spe = o.stepsPerEpoch ?? 50, nEpochs = o.epochs ?? 10, nSamples = o.samples ?? 16;
  const rnd = rand(o.seed ?? 7);
  const steps = [];
  const total = spe * nEpochs;
  for (let s = 1; s <= total; s++) {
    const base = 0.55 + 1.75 * Math.exp(-s / (total / 4));
    steps.push({ step: s, loss: base * (0.8 + 0.4 * rnd()) });
  }
  for (let k = 0; k < (o.nanSteps ?? 0); k++) steps[steps.length - 1 - k].loss = NaN;
  const epochs = [];
  for (let e = 1; e <= nEpochs; e++) {
    const t = e / nEpochs;
    epochs.push({
      epoch: e, step: e * spe,
      trainAccuracy: Math.min(0.99, 0.3 + 0.6 * t + 0.02 * rnd()),
      valAccuracy: Math.min(0.95, 0.28 + 0.48 * Math.sqrt(t) + 0.02 * rnd()),
      valLoss: 0.7 + 1.5 * Math.exp(-e / (nEpochs / 3)),
      trainLoss: 0.55 + 1.6 * Math.exp(-e / (nEpochs / 4)),
      seconds: 300 + 20 * rnd(),
    });
  }
  const n = classes.length;
  const labels: number[] = [], preds: number[] = [];
  for (let i = 0; i < 100 * n; i++) {
    const t = i % n;
    labels.push(t);
    preds.push(rnd() < 0.75 ? t : Math.floor(rnd() * n));
  }
  const confusion = confusionMatrix(labels, preds, classes);
  const right = labels.filter((t, i) => t === preds[i]).length;
  const samples: Sample[] = [];
  for (let i = 0; i < nSamples; i++) {
    const t = Math.floor(rnd() * n), p = rnd() < 0.7 ? t : Math.floor(rnd() * n);
    samples.push({ rgb: picture(32, 32, 100 + i), size: [32, 32], label: classes[t], predicted: classes[p], score: 0.3 + 0.7 * rnd(), source: `img_${i}.jpg` });
  }
  return {
    title: `synthetic <run> & "quotes" · seed-cnn · ${nEpochs} epochs`,
    command: `npx edge-cnn train --data ./photos --epochs ${nEpochs} --report /tmp/report-demo`,
    model: "models/photos.bin",
    steps, epochs,
    evaluation: {
      accuracy: right / labels.length, loss: 0.83, labels: classes, confusion,
      perClass: perClassMetrics(confusion, classes), dataset: `validation (${labels.length} images)`,
    },
    samples,
    crossval: { accuracies: [0.78, 0.74, 0.81, 0.77, 0.69] },
    extra: { optimizer: "adam", lr: 0.001, batch: 64, augment: { flip: true } },
  };
}

// Run directly: write a demo report.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const { writeReport } = await import("../../../trainer/report/index.ts");
  const dir = process.argv[2] ?? "/tmp/report-demo";
  const which = process.argv[3] ?? "default";
  const data =
    which === "big" ? syntheticReport({ stepsPerEpoch: 766, epochs: 20, nanSteps: 30, samples: 24 })
    : which === "two" ? syntheticReport({ classes: ["cat", "dog"], epochs: 1, samples: 5 })
    : which === "long" ? syntheticReport({ classes: ["a very long folder name for a class", "short", "middle-length name", "x", "another_extremely_long_label_here_ok", "y", "z", "w", "v", "u", "t", "s"], epochs: 3 })
    : syntheticReport();
  const res = await writeReport(dir, data);
  console.log(JSON.stringify(res, null, 1));
}
