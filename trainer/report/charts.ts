// The report pictures as SVG strings. Each function returns null when it has nothing to draw.
// Layout sizes are in px; the PNGs are rendered at a multiple of them (see render.ts).

import type { EpochPoint, Sample, StepPoint } from "./types.ts";
import {
  COLORS, axes, centeredAverage, downsample, esc, fit, header, legend, legendWidth, lossText, sci, niceTicks, pathD, pct, r,
  scale, svgDoc, text, textWidth, tickLabel, type LegendItem, type Rect, type Svg,
} from "./svg.ts";

const W = 900, H = 500;

function plotRect(right = 30): Rect {
  return { x: 84, y: 74, w: W - 84 - right, h: H - 74 - 66 };
}

function clipRect(id: string, p: Rect): string {
  return `<defs><clipPath id="${id}"><rect x="${r(p.x - 6)}" y="${r(p.y - 1)}" width="${r(p.w + 12)}" height="${r(p.h + 2)}"/></clipPath></defs>`;
}

const fmtInt = (v: number) => Math.round(v).toLocaleString("en-US");
const sig3 = (v: number) => (Math.abs(v) >= 1e4 ? sci(v) : String(parseFloat(v.toPrecision(3))));

// ---------------------------------------------------------------------------------------------- loss

/** Training loss per step (thin) with its moving average (thick), and validation loss per epoch.
 *  Without steps, the loss per epoch (train and validation) is drawn against the epoch instead. */
export function lossChart(steps: readonly StepPoint[] = [], epochs: readonly EpochPoint[] = []): Svg | null {
  const byStep = steps.length > 0;
  const valEpochs = epochs.filter((e) => Number.isFinite(e.valLoss));
  const trainEpochs = byStep ? [] : epochs.filter((e) => Number.isFinite(e.trainLoss));
  if (!byStep && valEpochs.length === 0 && trainEpochs.length === 0) return null;

  const sorted = [...steps].sort((a, b) => a.step - b.step);
  const raw: [number, number][] = [];
  let bad = 0, firstBad = NaN;
  for (const s of sorted) {
    if (Number.isFinite(s.loss)) raw.push([s.step, s.loss]);
    else { bad++; if (Number.isNaN(firstBad)) firstBad = s.step; }
  }
  const window = raw.length >= 20 ? Math.max(5, Math.min(500, Math.round(raw.length / 30))) : 0;
  const avgY = window ? centeredAverage(raw.map((p) => p[1]), window) : [];
  const avg: [number, number][] = raw.map((p, i) => [p[0], avgY[i]]);

  // x position of an epoch's end
  const lastStep = sorted.length ? sorted[sorted.length - 1].step : 0;
  const lastEpoch = epochs.reduce((m, e) => Math.max(m, e.epoch), 0);
  const ex = (e: EpochPoint) => (!byStep ? e.epoch : e.step ?? (lastEpoch > 0 ? (e.epoch / lastEpoch) * lastStep : lastStep));
  const val: [number, number][] = valEpochs.map((e) => [ex(e), e.valLoss!]);
  const trn: [number, number][] = trainEpochs.map((e) => [ex(e), e.trainLoss!]);
  val.sort((a, b) => a[0] - b[0]);
  trn.sort((a, b) => a[0] - b[0]);

  // x domain
  const xs = [...sorted.map((s) => s.step), ...val.map((p) => p[0]), ...trn.map((p) => p[0])];
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (x1 <= x0) { x0 -= 1; x1 += 1; }
  const xpad = byStep ? (x1 - x0) * 0.015 : 0.3;
  const [xt0, xt1] = [x0, x1]; // tick range: the data, not the padding
  x0 -= xpad; x1 += xpad;

  // y domain: from 0; a few huge outliers (a diverging run) are clipped at 1.2x the 99th percentile
  const ys = [...raw.map((p) => p[1]), ...val.map((p) => p[1]), ...trn.map((p) => p[1])];
  let notes: string[] = [];
  let yLo = Math.min(0, ...ys), yTop = ys.length ? Math.max(...ys) : 1;
  if (raw.length >= 20) {
    // A run that blows up (or a huge first step) would flatten the rest of the curve: cut the y axis
    // at min(5x the median, 3x the 90th percentile) when the maximum is beyond it, and say so.
    const sortedY = raw.map((p) => p[1]).sort((a, b) => a - b);
    const cut = Math.min(5 * sortedY[Math.floor(raw.length * 0.5)], 3 * sortedY[Math.floor(raw.length * 0.9)]);
    if (cut > 0 && yTop > cut) { notes.push(`y axis cut at ${sig3(cut)} (max ${sig3(yTop)})`); yTop = cut; }
  }
  if (!(yTop > yLo)) yTop = yLo + 1;
  const { ticks: yt, step: yStep } = niceTicks(yLo, yTop * 1.04, 6);
  const y1 = Math.ceil((yTop * 1.04) / yStep - 1e-9) * yStep;
  yLo = Math.min(yLo, yt[0]);
  const yTicks = niceTicks(yLo, y1, 6).ticks.filter((t) => t >= yLo && t <= y1 + 1e-9);

  const p = plotRect();
  if (bad > 0) { p.y += 18; p.h -= 18; } // room for the warning line under the subtitle
  const sx = scale(x0, x1, p.x, p.x + p.w), sy = scale(yLo, y1, p.y + p.h, p.y);
  const { ticks: xt, step: xStep } = niceTicks(xt0, xt1, 8, 1);
  const xTicks = xt.filter((t) => t >= x0 && t <= x1);
  // clamp far-off points (a diverging run) near the plot: cairo drops paths with huge coordinates
  const clampY = (y: number) => Math.min(p.y + p.h + 40, Math.max(p.y - 40, y));
  const px = (pts: [number, number][]) => pts.map(([x, y]): [number, number] => [sx(x), clampY(sy(y))]);

  const body: string[] = [];
  const items: LegendItem[] = [];
  body.push(clipRect("plot", p));
  body.push(axes({
    plot: p, xTicks, yTicks, sx, sy,
    xLabel: (v) => tickLabel(v, xStep, x1), yLabel: (v) => tickLabel(v, yStep, y1),
    xTitle: byStep ? "step" : "epoch", yTitle: "loss (cross-entropy)",
  }));
  body.push(`<g clip-path="url(#plot)" fill="none" stroke-linejoin="round" stroke-linecap="round">`);
  if (raw.length) {
    const thin = window ? COLORS.lightBlue : COLORS.blue;
    body.push(`<path d="${pathD(px(downsample(raw, 1000)))}" stroke="${thin}" stroke-width="${window ? 1 : 2}"/>`);
    if (raw.length === 1) body.push(`<circle cx="${r(sx(raw[0][0]))}" cy="${r(sy(raw[0][1]))}" r="3.5" fill="${COLORS.blue}"/>`);
    items.push({ label: "loss per step", color: thin });
  }
  if (window) {
    body.push(`<path d="${pathD(px(downsample(avg, 1000)))}" stroke="${COLORS.blue}" stroke-width="2.5"/>`);
    items.push({ label: `moving average (${window} steps)`, color: COLORS.blue });
  }
  const markers = (pts: [number, number][], color: string) => {
    if (pts.length > 1) body.push(`<path d="${pathD(px(pts))}" stroke="${color}" stroke-width="2.5"/>`);
    if (pts.length <= 80) for (const [x, y] of px(pts)) body.push(`<circle cx="${r(x)}" cy="${r(y)}" r="4.5" fill="${color}" stroke="#ffffff" stroke-width="1.5"/>`);
  };
  if (trn.length) { markers(trn, COLORS.blue); items.push({ label: "training loss (epoch mean)", color: COLORS.blue, kind: "line-marker" }); }
  if (val.length) { markers(val, COLORS.orange); items.push({ label: byStep ? "validation loss (epoch end)" : "validation loss", color: COLORS.orange, kind: "line-marker" }); }
  body.push(`</g>`);

  if (bad > 0 && raw.length > 0) {
    // where the first NaN/inf happened
    const x = sx(firstBad);
    body.push(`<line x1="${r(x)}" y1="${r(p.y)}" x2="${r(x)}" y2="${r(p.y + p.h)}" stroke="${COLORS.red}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    const label = "first NaN/∞", right = x + 6 + textWidth(label, 12) < p.x + p.w;
    body.push(text(right ? x + 6 : x - 6, p.y + 16, label, { size: 12, anchor: right ? "start" : "end", fill: COLORS.red }));
  }
  if (raw.length === 0 && bad > 0) {
    body.push(text(p.x + p.w / 2, p.y + p.h / 2, `all ${fmtInt(bad)} losses are NaN or infinite: training diverged`, { size: 16, anchor: "middle", fill: COLORS.red, weight: "bold" }));
  }
  const info: string[] = [];
  if (byStep) info.push(`${fmtInt(sorted.length)} steps`);
  if (raw.length) info.push(`smoothed loss at the end ${lossText(window ? avgY[avgY.length - 1] : raw[raw.length - 1][1])}`);
  if (val.length) info.push(`last validation loss ${lossText(val[val.length - 1][1])}`);
  notes = [...info, ...notes];
  body.push(header(W, "Training loss", notes.join("  ·  ")));
  if (bad > 0) {
    const warn = `${fmtInt(bad)} of ${fmtInt(sorted.length)} losses are NaN or infinite (first at step ${fmtInt(firstBad)}) and are not drawn`;
    body.push(text(24, 71, fit(warn, W - 48, 12, true), { size: 12, fill: COLORS.red, weight: "bold" }));
  }
  body.push(legend(items, W - 30, 30));
  return { svg: svgDoc(W, H, body.join("\n")), width: W, height: H };
}

// ------------------------------------------------------------------------------------------ accuracy

/** Train and validation accuracy per epoch, 0..100 %. */
export function accuracyChart(epochs: readonly EpochPoint[] = []): Svg | null {
  const sorted = [...epochs].sort((a, b) => a.epoch - b.epoch);
  const series = [
    { label: "train", color: COLORS.blue, pts: sorted.filter((e) => Number.isFinite(e.trainAccuracy)).map((e): [number, number] => [e.epoch, e.trainAccuracy!]) },
    { label: "validation", color: COLORS.orange, pts: sorted.filter((e) => Number.isFinite(e.valAccuracy)).map((e): [number, number] => [e.epoch, e.valAccuracy!]) },
  ].filter((s) => s.pts.length > 0);
  if (series.length === 0) return null;

  const all = series.flatMap((s) => s.pts.map((q) => q[0]));
  const e0 = Math.min(...all), e1 = Math.max(...all);
  const pad = Math.max(0.5, (e1 - e0) * 0.03);
  const p = plotRect(90);
  const sx = scale(e0 - pad, e1 + pad, p.x, p.x + p.w), sy = scale(0, 1, p.y + p.h, p.y);
  const { ticks: xt, step: xStep } = niceTicks(e0, e1, 10, 1);
  const xTicks = xt.filter((t) => t >= e0 && t <= e1);
  const yTicks = [0, 0.2, 0.4, 0.6, 0.8, 1];

  const body: string[] = [];
  body.push(axes({
    plot: p, xTicks, yTicks, sx, sy,
    xLabel: (v) => tickLabel(v, xStep, e1), yLabel: (v) => `${Math.round(v * 100)} %`,
    xTitle: "epoch", yTitle: "accuracy",
  }));
  const n = Math.max(...series.map((s) => s.pts.length));
  const mr = n <= 30 ? 4.5 : n <= 80 ? 3 : 0;
  for (const s of series) {
    const pts = s.pts.map(([x, y]): [number, number] => [sx(x), sy(y)]);
    if (pts.length > 1) body.push(`<path d="${pathD(pts)}" fill="none" stroke="${s.color}" stroke-width="2.5" stroke-linejoin="round"/>`);
    for (const [x, y] of pts) body.push(`<circle cx="${r(x)}" cy="${r(y)}" r="${pts.length === 1 ? 6 : mr}" fill="${s.color}" stroke="#ffffff" stroke-width="1.5"/>`);
  }
  // final values right of the last points, pushed apart when they would overlap
  const ends = series.map((s) => ({ s, x: sx(s.pts[s.pts.length - 1][0]), y: sy(s.pts[s.pts.length - 1][1]), v: s.pts[s.pts.length - 1][1] }));
  if (ends.length === 2 && Math.abs(ends[0].y - ends[1].y) < 16) {
    const [hi, lo] = ends[0].y <= ends[1].y ? [ends[0], ends[1]] : [ends[1], ends[0]];
    const mid = (hi.y + lo.y) / 2;
    hi.y = mid - 8; lo.y = mid + 8;
  }
  for (const e of ends) body.push(text(p.x + p.w + 8, e.y + 4.5, pct(e.v), { size: 13, fill: e.s.color, weight: "bold" }));

  const notes: string[] = [`${sorted.length} epoch${sorted.length === 1 ? "" : "s"}`];
  const valS = series.find((s) => s.label === "validation");
  if (valS) {
    const best = valS.pts.reduce((b, q) => (q[1] > b[1] ? q : b));
    notes.push(`best validation ${pct(best[1])} at epoch ${best[0]}`);
  }
  body.push(header(W, "Accuracy per epoch", notes.join("  ·  ")));
  body.push(legend(series.map((s) => ({ label: s.label, color: s.color, kind: "line-marker" as const })), W - 30, 30));
  return { svg: svgDoc(W, H, body.join("\n")), width: W, height: H };
}

// ----------------------------------------------------------------------------------------- confusion

/** Blues colour map, t in [0, 1]. */
function blues(t: number): string {
  const stops: [number, number, number][] = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Confusion matrix heat map: rows true label, columns predicted, colour = share of the row. */
export function confusionChart(labels: readonly string[], confusion: readonly (readonly number[])[]): Svg | null {
  const n = labels.length;
  if (n === 0) return null;
  const LF = 13; // label font size
  const maxLabel = 170;
  const shown = labels.map((l) => fit(l, maxLabel, LF));
  const labelW = Math.max(...shown.map((l) => textWidth(l, LF)));
  const cell = Math.max(8, Math.min(110, Math.floor(620 / n)));
  const side = cell * n;
  const rotate = labelW > cell - 6;
  const colLabelH = rotate ? labelW * 0.71 + 14 : 22;
  const overhang = rotate ? labelW * 0.71 - cell / 2 : 0;
  let left = Math.max(40 + labelW + 12, overhang + 20);
  const top = 78;
  const contentW = left + side + 28 + 16 + 56 + 20;
  const width = Math.max(640, Math.ceil(contentW));
  left += Math.floor((width - contentW) / 2); // centre a small matrix
  const cbX = left + side + 28;
  const height = Math.ceil(top + side + 8 + colLabelH + 36);

  let total = 0, right = 0;
  const rowSum = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  confusion.forEach((row, t) => row.forEach((v, q) => { total += v; if (t === q) right += v; }));
  const maxCount = Math.max(0, ...confusion.flat());
  const digits = String(maxCount).length;
  let fs = Math.min(16, cell * 0.36);
  fs = Math.min(fs, (cell - 6) / (0.64 * digits));
  const counts = fs >= 7;

  const body: string[] = [];
  for (let t = 0; t < n; t++) {
    for (let q = 0; q < n; q++) {
      const v = confusion[t][q];
      const share = rowSum[t] > 0 ? v / rowSum[t] : 0;
      const x = left + q * cell, y = top + t * cell;
      body.push(`<rect x="${r(x)}" y="${r(y)}" width="${cell}" height="${cell}" fill="${blues(share)}"/>`);
      if (counts) {
        const fill = share > 0.5 ? "#ffffff" : v === 0 ? "#9aa5b1" : "#17324d";
        body.push(text(x + cell / 2, y + cell / 2 + fs * 0.36, String(v), { size: Math.round(fs * 10) / 10, anchor: "middle", fill, weight: t === q ? "bold" : "normal" }));
      }
    }
  }
  // thin white grid lines between cells and a frame
  for (let k = 1; k < n; k++) {
    body.push(`<line x1="${left + k * cell}" y1="${top}" x2="${left + k * cell}" y2="${top + side}" stroke="#ffffff" stroke-width="1"/>`);
    body.push(`<line x1="${left}" y1="${top + k * cell}" x2="${left + side}" y2="${top + k * cell}" stroke="#ffffff" stroke-width="1"/>`);
  }
  body.push(`<rect x="${left}" y="${top}" width="${side}" height="${side}" fill="none" stroke="${COLORS.axis}" stroke-width="1"/>`);
  // row labels (true) and column labels (predicted)
  const lf = Math.min(LF, Math.max(8, cell * 0.8));
  for (let k = 0; k < n; k++) {
    body.push(text(left - 8, top + k * cell + cell / 2 + lf * 0.36, shown[k], { size: lf, anchor: "end" }));
    const cx = left + k * cell + cell / 2;
    if (rotate) body.push(text(cx + 4, top + side + 14, shown[k], { size: lf, anchor: "end", rotate: -45 }));
    else body.push(text(cx, top + side + 18, shown[k], { size: lf, anchor: "middle" }));
  }
  body.push(text(left + side / 2, top + side + 8 + colLabelH + 22, "predicted label", { size: 13, anchor: "middle", weight: "bold" }));
  body.push(text(Math.max(18, left - labelW - 26), top + side / 2, "true label", { size: 13, anchor: "middle", weight: "bold", rotate: -90 }));

  // colour bar
  const cbH = Math.min(side, 260);
  body.push(`<defs><linearGradient id="cb" x1="0" y1="1" x2="0" y2="0">` +
    [0, 0.25, 0.5, 0.75, 1].map((t) => `<stop offset="${t}" stop-color="${blues(t)}"/>`).join("") + `</linearGradient></defs>`);
  body.push(`<rect x="${r(cbX)}" y="${top}" width="16" height="${cbH}" fill="url(#cb)" stroke="${COLORS.axis}" stroke-width="1"/>`);
  for (const t of [0, 0.5, 1]) {
    const y = top + cbH - t * cbH;
    body.push(`<line x1="${r(cbX + 16)}" y1="${r(y)}" x2="${r(cbX + 20)}" y2="${r(y)}" stroke="${COLORS.axis}"/>`);
    body.push(text(cbX + 23, y + 4, `${t * 100} %`, { size: 11, fill: COLORS.muted }));
  }
  body.push(text(cbX + 8, top + cbH + 18, "of row", { size: 11, anchor: "middle", fill: COLORS.muted }));

  const sub = `rows: true label  ·  columns: predicted  ·  colour: share of the true class` + (counts ? "" : "  ·  counts in metrics.json");
  body.push(header(width, `Confusion matrix  (accuracy ${pct(total ? right / total : NaN)} of ${fmtInt(total)} images)`, sub));
  return { svg: svgDoc(width, height, body.join("\n")), width, height };
}

// ------------------------------------------------------------------------------------------- samples

/** Display size of a sample: nearest-neighbour upscaled by an integer factor to about 128 px. */
export function sampleFactor(size: readonly [number, number]): number {
  const m = Math.max(size[0], size[1]);
  return m <= 128 ? Math.max(1, Math.floor(128 / m)) : 128 / m;
}

/** Grid of samples, each with a green (right) or red (wrong) frame, the prediction and score, and the
 *  true label. `hrefs[i]` is the image of samples[i] (a data: URI of a PNG). */
export function samplesChart(samples: readonly Sample[], hrefs: readonly string[]): Svg | null {
  const n = samples.length;
  if (n === 0) return null;
  const disp = samples.map((s) => [s.size[1] * sampleFactor(s.size), s.size[0] * sampleFactor(s.size)]);
  const imgW = Math.max(...disp.map((d) => d[0])), imgH = Math.max(...disp.map((d) => d[1]));
  const cellW = Math.max(imgW + 10, 150), cellH = imgH + 10 + 44, gap = 14;
  const cols = Math.min(n, 8, Math.ceil(Math.sqrt(n * 1.6)));
  const rows = Math.ceil(n / cols);
  const margin = 24, top = 74;
  const width = Math.max(520, margin * 2 + cols * cellW + (cols - 1) * gap);
  const gridW = cols * cellW + (cols - 1) * gap;
  const x0 = (width - gridW) / 2;
  const height = top + rows * cellH + (rows - 1) * gap + 20;
  let right = 0;
  const body: string[] = [];
  samples.forEach((s, i) => {
    const ok = s.label === s.predicted;
    if (ok) right++;
    const color = ok ? COLORS.green : COLORS.red;
    const cx = x0 + (i % cols) * (cellW + gap) + cellW / 2;
    const y = top + Math.floor(i / cols) * (cellH + gap);
    const [w, h] = disp[i];
    const ix = cx - w / 2, iy = y + 5 + (imgH - h) / 2;
    const bw = ok ? 3 : 4;
    if (!ok) body.push(`<rect x="${r(cx - cellW / 2)}" y="${r(y)}" width="${r(cellW)}" height="${r(cellH)}" fill="#fdecea" rx="6"/>`);
    body.push(`<rect x="${r(ix - bw)}" y="${r(iy - bw)}" width="${r(w + 2 * bw)}" height="${r(h + 2 * bw)}" fill="${color}" rx="2"/>`);
    body.push(`<image x="${r(ix)}" y="${r(iy)}" width="${r(w)}" height="${r(h)}" preserveAspectRatio="none" image-rendering="optimizeSpeed" style="image-rendering:pixelated" xlink:href="${esc(hrefs[i])}" href="${esc(hrefs[i])}"/>`);
    const ty = y + imgH + 10 + 17;
    const mark = ok ? "✓ " : "✗ ";
    const score = ` ${pct(s.score, 0)}`;
    const room = cellW - 4 - textWidth(mark + score, 13, true);
    body.push(text(cx, ty, mark + fit(s.predicted, room, 13, true) + score, { size: 13, anchor: "middle", fill: color, weight: "bold" }));
    body.push(text(cx, ty + 18, fit(`true: ${s.label}`, cellW - 4, 12), { size: 12, anchor: "middle", fill: ok ? COLORS.muted : COLORS.text }));
  });
  const items: LegendItem[] = [{ label: "right", color: COLORS.green, kind: "box" }, { label: "wrong", color: COLORS.red, kind: "box" }];
  const title = `Samples: ${right} of ${n} right`;
  const sub = "predicted label and score, true label below";
  body.push(header(width - legendWidth(items) - 10, title, sub));
  body.push(legend(items, width - 24, 30));
  return { svg: svgDoc(width, height, body.join("\n")), width, height };
}

// ------------------------------------------------------------------------------------------ crossval

/** Accuracy of each split as bars, the mean as a dashed line and mean ± std as a band. */
export function crossvalChart(accuracies: readonly number[], mean: number, std: number): Svg | null {
  const n = accuracies.length;
  if (n === 0) return null;
  const p = plotRect();
  const slot = p.w / n;
  const bw = Math.min(90, slot * 0.7);
  const sy = scale(0, 1, p.y + p.h, p.y);
  const yTicks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  const every = Math.ceil(n / 25);
  const body: string[] = [];
  body.push(axes({
    plot: p, xTicks: [], yTicks, sx: (v) => v, sy,
    xLabel: () => "", yLabel: (v) => `${Math.round(v * 100)} %`, xTitle: "split", yTitle: "accuracy",
  }));
  if (Number.isFinite(mean) && Number.isFinite(std)) {
    const a = sy(Math.min(1, mean + std)), b = sy(Math.max(0, mean - std));
    body.push(`<rect x="${r(p.x)}" y="${r(a)}" width="${r(p.w)}" height="${r(b - a)}" fill="${COLORS.red}" fill-opacity="0.12"/>`);
  }
  const labelFits = bw >= 30;
  const labels: string[] = [];
  accuracies.forEach((acc, i) => {
    const cx = p.x + slot * (i + 0.5);
    if (Number.isFinite(acc)) {
      const y = sy(Math.max(0, Math.min(1, acc)));
      body.push(`<rect x="${r(cx - bw / 2)}" y="${r(y)}" width="${r(bw)}" height="${r(p.y + p.h - y)}" fill="${COLORS.bar}"/>`);
      if (labelFits) {
        // drawn after the mean line on a white patch, so the dashed line never strikes them through
        const inside = y - 8 < p.y + 14;
        const fs = bw >= 46 ? 12 : 10, ty = inside ? y + 17 : y - 7, tw = textWidth(pct(acc), fs, true);
        if (!inside) labels.push(`<rect x="${r(cx - tw / 2 - 4)}" y="${r(ty - fs - 1)}" width="${r(tw + 8)}" height="${r(fs + 5)}" rx="3" fill="#ffffff" fill-opacity="0.9"/>`);
        labels.push(text(cx, ty, pct(acc), { size: fs, anchor: "middle", fill: inside ? "#ffffff" : COLORS.text, weight: "bold" }));
      }
    }
    if (i % every === 0) {
      body.push(`<line x1="${r(cx)}" y1="${r(p.y + p.h)}" x2="${r(cx)}" y2="${r(p.y + p.h + 5)}" stroke="${COLORS.axis}"/>`);
      body.push(text(cx, p.y + p.h + 20, String(i + 1), { size: 12, anchor: "middle", fill: COLORS.muted }));
    }
  });
  if (Number.isFinite(mean)) {
    const y = sy(mean);
    body.push(`<line x1="${r(p.x)}" y1="${r(y)}" x2="${r(p.x + p.w)}" y2="${r(y)}" stroke="${COLORS.red}" stroke-width="2" stroke-dasharray="7 4"/>`);
  }
  body.push(...labels);
  const items: LegendItem[] = [
    { label: "split accuracy", color: COLORS.bar, kind: "box" },
    { label: `mean ${pct(mean)}`, color: COLORS.red, kind: "dash" },
    { label: `± std ${pct(std)}`, color: "rgba(214,39,40,0.25)", kind: "box" },
  ];
  const finite = accuracies.filter(Number.isFinite);
  const sub = `${n} random split${n === 1 ? "" : "s"}  ·  min ${pct(Math.min(...finite))}  ·  max ${pct(Math.max(...finite))}`;
  body.push(header(W - legendWidth(items) - 40, `Cross-validation: ${pct(mean)} ± ${pct(std)}`, sub));
  body.push(legend(items, W - 30, 30));
  return { svg: svgDoc(W, H, body.join("\n")), width: W, height: H };
}
