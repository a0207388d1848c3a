// Training and evaluation reports (`--report DIR` on train, evaluate and crossval).
//
//   const result = await writeReport("runs/photos", { title, steps, epochs, evaluation, samples });
//
// writes into the folder: index.html (opens from the disk, no server, no JS), metrics.json (the
// numbers) and one PNG per part present: loss.png, accuracy.png, confusion.png, samples.png,
// crossval.png. Each picture is a hand-written SVG rendered with sharp (librsvg).

import { access, mkdir, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { accuracyChart, confusionChart, crossvalChart, lossChart, sampleFactor, samplesChart } from "./charts.ts";
import { prettyJson } from "./format.ts";
import { renderHtml, type HtmlImage, type HtmlInput } from "./html.ts";
import { confusionAccuracy, meanStd, perClassMetrics } from "./metrics.ts";
import { sampleHref, svgToPng } from "./render.ts";
import type { Svg } from "./svg.ts";
import type { ReportData, ReportImage, ReportOptions, ReportResult } from "./types.ts";

export type * from "./types.ts";
export { confusionAccuracy, confusionMatrix, meanStd, perClassMetrics } from "./metrics.ts";
export { accuracyChart, confusionChart, crossvalChart, lossChart, samplesChart } from "./charts.ts";
export { esc } from "./svg.ts";

/** The PNG names a report may contain; ones not drawn this time are removed so no stale picture stays. */
export const REPORT_IMAGES = ["loss.png", "accuracy.png", "confusion.png", "samples.png", "crossval.png"] as const;

function fail(path: string, msg: string): never {
  throw new TypeError(`report: ${path} ${msg}`);
}

function checkFraction(path: string, v: unknown, optional = true): void {
  if (v === undefined && optional) return;
  if (typeof v !== "number") fail(path, `must be a number, got ${typeof v}`);
  if (Number.isFinite(v) && (v < 0 || v > 1)) fail(path, `is ${v}; accuracies, precisions and scores are fractions in [0, 1]`);
}

/** Throws a TypeError naming the first malformed field. */
export function validateReportData(d: ReportData): void {
  if (!d || typeof d !== "object") fail("data", "must be an object");
  if (typeof d.title !== "string") fail("title", "must be a string");
  if (d.steps !== undefined) {
    if (!Array.isArray(d.steps)) fail("steps", "must be an array");
    d.steps.forEach((s, i) => {
      if (typeof s?.step !== "number" || !Number.isFinite(s.step)) fail(`steps[${i}].step`, "must be a finite number");
      if (typeof s.loss !== "number") fail(`steps[${i}].loss`, "must be a number (NaN is allowed)");
    });
  }
  if (d.epochs !== undefined) {
    if (!Array.isArray(d.epochs)) fail("epochs", "must be an array");
    d.epochs.forEach((e, i) => {
      if (typeof e?.epoch !== "number" || !Number.isFinite(e.epoch)) fail(`epochs[${i}].epoch`, "must be a finite number");
      checkFraction(`epochs[${i}].trainAccuracy`, e.trainAccuracy);
      checkFraction(`epochs[${i}].valAccuracy`, e.valAccuracy);
    });
  }
  const ev = d.evaluation;
  if (ev !== undefined) {
    if (!Array.isArray(ev.labels) || ev.labels.length === 0 || ev.labels.some((l) => typeof l !== "string")) fail("evaluation.labels", "must be a non-empty array of strings");
    const n = ev.labels.length;
    if (!Array.isArray(ev.confusion) || ev.confusion.length !== n) fail("evaluation.confusion", `must have ${n} rows (one per label)`);
    ev.confusion.forEach((row, t) => {
      if (!Array.isArray(row) || row.length !== n) fail(`evaluation.confusion[${t}]`, `must have ${n} entries`);
      row.forEach((v, p) => { if (!Number.isFinite(v) || v < 0) fail(`evaluation.confusion[${t}][${p}]`, `is ${v}; counts are finite and >= 0`); });
    });
    checkFraction("evaluation.accuracy", ev.accuracy, false);
    if (ev.perClass !== undefined && (!Array.isArray(ev.perClass) || ev.perClass.length !== n)) fail("evaluation.perClass", `must have ${n} entries (one per label)`);
  }
  if (d.samples !== undefined) {
    if (!Array.isArray(d.samples)) fail("samples", "must be an array");
    d.samples.forEach((s, i) => {
      const [h, w] = s?.size ?? [];
      if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) fail(`samples[${i}].size`, "must be [height, width] in whole pixels");
      if (!(s.rgb instanceof Uint8Array) || s.rgb.length !== h * w * 3) fail(`samples[${i}].rgb`, `must be a Uint8Array of ${h}x${w}x3 = ${h * w * 3} bytes, got ${s.rgb?.length}`);
      if (typeof s.label !== "string" || typeof s.predicted !== "string") fail(`samples[${i}]`, "needs string label and predicted");
      checkFraction(`samples[${i}].score`, s.score, false);
    });
  }
  if (d.crossval !== undefined) {
    if (!Array.isArray(d.crossval.accuracies)) fail("crossval.accuracies", "must be an array");
    d.crossval.accuracies.forEach((a, i) => checkFraction(`crossval.accuracies[${i}]`, a, false));
  }
}

/** Fill in what can be derived: perClass, crossval mean/std, createdAt. */
function normalise(d: ReportData): HtmlInput {
  const out: HtmlInput = { ...d, createdAt: d.createdAt ?? new Date().toISOString() } as HtmlInput;
  if (d.evaluation) {
    out.evaluation = { ...d.evaluation, perClass: d.evaluation.perClass ?? perClassMetrics(d.evaluation.confusion, d.evaluation.labels) };
  }
  if (d.crossval) {
    const ms = meanStd(d.crossval.accuracies.filter(Number.isFinite));
    out.crossval = { ...d.crossval, mean: d.crossval.mean ?? ms.mean, std: d.crossval.std ?? ms.std };
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try { await access(path); return true; } catch { return false; }
}

/**
 * Write the report for `data` into `dir` (created if needed): index.html, metrics.json and the PNGs
 * of the parts present. Throws a TypeError naming the field when `data` is malformed, before writing.
 */
export async function writeReport(dir: string, data: ReportData, options: ReportOptions = {}): Promise<ReportResult> {
  validateReportData(data);
  const scale = options.scale ?? 2;
  if (!(scale > 0 && scale <= 8)) throw new RangeError(`report: scale ${scale} must be in (0, 8]`);
  const d = normalise(data);
  const samples = (d.samples ?? []).slice(0, options.maxSamples ?? 48);
  await mkdir(dir, { recursive: true });

  const charts: { file: (typeof REPORT_IMAGES)[number]; svg: Svg | null; alt: string; caption: string }[] = [];
  const ev = d.evaluation;
  charts.push({
    file: "loss.png", svg: lossChart(d.steps, d.epochs), alt: "Training loss",
    caption: d.steps?.length
      ? "Training loss of every step (thin) and its moving average (thick); validation loss at the end of each epoch (orange)."
      : "Loss per epoch.",
  });
  charts.push({ file: "accuracy.png", svg: accuracyChart(d.epochs), alt: "Accuracy per epoch", caption: "Train and validation accuracy at the end of each epoch." });
  if (ev) {
    charts.push({
      file: "confusion.png", svg: confusionChart(ev.labels, ev.confusion), alt: "Confusion matrix",
      caption: "Rows are the true labels, columns the predictions; each cell holds a count and is coloured by its share of the row, so the diagonal shows each class's recall.",
    });
  }
  let samplesSvg: Svg | null = null;
  if (samples.length) {
    const hrefs = await Promise.all(samples.map((s) => {
      const f = sampleFactor(s.size);
      return sampleHref(s, Number.isInteger(f) ? f * Math.ceil(scale) : 1);
    }));
    samplesSvg = samplesChart(samples, hrefs);
  }
  charts.push({ file: "samples.png", svg: samplesSvg, alt: "Sample predictions", caption: "Random validation images with the predicted label and its probability (green: right, red: wrong) and the true label." });
  if (d.crossval) {
    charts.push({
      file: "crossval.png", svg: crossvalChart(d.crossval.accuracies, d.crossval.mean, d.crossval.std), alt: "Cross-validation accuracy",
      caption: "Accuracy of each random split; the dashed line is the mean, the band mean ± one standard deviation.",
    });
  }

  const drawn = charts.filter((c): c is typeof c & { svg: Svg } => c.svg !== null);
  const images: ReportImage[] = [];
  await Promise.all(drawn.map(async (c) => {
    const png = await svgToPng(c.svg.svg, scale);
    await writeFile(join(dir, c.file), png);
  }));
  for (const c of drawn) images.push({ file: c.file, width: Math.round(c.svg.width * scale), height: Math.round(c.svg.height * scale), alt: c.alt });
  for (const f of REPORT_IMAGES) {
    if (!drawn.some((c) => c.file === f)) await unlink(join(dir, f)).catch(() => {});
  }

  const seconds = d.seconds ?? (d.epochs?.some((e) => Number.isFinite(e.seconds)) ? d.epochs.reduce((a, e) => a + (Number.isFinite(e.seconds) ? e.seconds! : 0), 0) : undefined);
  const metrics = {
    title: d.title,
    createdAt: d.createdAt,
    command: d.command,
    model: d.model,
    seconds,
    evaluation: ev && {
      accuracy: ev.accuracy,
      confusionAccuracy: confusionAccuracy(ev.confusion),
      loss: ev.loss,
      dataset: ev.dataset,
      labels: ev.labels,
      confusion: ev.confusion,
      perClass: ev.perClass,
    },
    crossval: d.crossval,
    epochs: d.epochs,
    samples: samples.length
      ? samples.map((s) => ({ label: s.label, predicted: s.predicted, score: s.score, correct: s.label === s.predicted, source: s.source }))
      : undefined,
    extra: d.extra,
    images: images.map((im) => im.file),
    steps: d.steps,
  };
  await writeFile(join(dir, "metrics.json"), prettyJson(metrics) + "\n");

  const links = [{ file: "metrics.json", label: "all the numbers of this report" }];
  if (await exists(join(dir, "log.jsonl"))) links.push({ file: "log.jsonl", label: "the training log, one JSON object per line" });
  const htmlImages: HtmlImage[] = drawn.map((c) => ({ file: c.file, width: c.svg.width, height: c.svg.height, alt: c.alt, caption: c.caption }));
  await writeFile(join(dir, "index.html"), renderHtml(d, htmlImages, links, seconds));

  return { dir, files: ["index.html", "metrics.json", ...images.map((im) => im.file)], images };
}
