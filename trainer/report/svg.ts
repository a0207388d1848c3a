// Small hand-written SVG toolkit for the report charts: escaping, text measuring, ticks, scales,
// axes and series helpers. Everything returns strings; nothing here needs sharp.

export const FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";
export const COLORS = {
  text: "#222222",
  muted: "#666666",
  grid: "#e6e6e6",
  axis: "#888888",
  blue: "#1f77b4",
  lightBlue: "#9ecae1",
  orange: "#ff7f0e",
  green: "#2ca02c",
  red: "#d62728",
  bar: "#4c8cc4",
};

/** A drawn chart: the SVG text and its layout size in px. */
export interface Svg {
  svg: string;
  width: number;
  height: number;
}

/** Escape text for SVG/XML and HTML (element content and attribute values). Control characters,
 *  which XML forbids even escaped, are replaced by U+FFFD. */
export function esc(s: string): string {
  return String(s)
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Approximate rendered width of `s` in DejaVu Sans at `size` px (slightly generous, for layout). */
export function textWidth(s: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x2e80) em += 1.0; // CJK and other wide scripts
    else if ("iIl.,:;|!'`j ".includes(ch)) em += 0.33;
    else if ("ftr()[]{}-/\\\"".includes(ch)) em += 0.42;
    else if ("mwMW@%".includes(ch)) em += 0.95;
    else if (c >= 0x41 && c <= 0x5a) em += 0.72; // A-Z
    else if (c >= 0x30 && c <= 0x39) em += 0.64; // digits
    else em += 0.62;
  }
  return em * size * (bold ? 1.1 : 1);
}

/** `s` shortened with an ellipsis so that it fits in `maxWidth` px. */
export function fit(s: string, maxWidth: number, size: number, bold = false): string {
  if (textWidth(s, size, bold) <= maxWidth) return s;
  const chars = [...s];
  while (chars.length > 1 && textWidth(chars.join("") + "…", size, bold) > maxWidth) chars.pop();
  return chars.join("") + "…";
}

export interface TextOpts {
  size?: number;
  anchor?: "start" | "middle" | "end";
  fill?: string;
  weight?: "normal" | "bold";
  rotate?: number;
  /** Extra attributes, already escaped. */
  attrs?: string;
}

/** A <text> element; `s` is escaped here. */
export function text(x: number, y: number, s: string, o: TextOpts = {}): string {
  const { size = 13, anchor = "start", fill = COLORS.text, weight = "normal", rotate, attrs = "" } = o;
  const tr = rotate ? ` transform="rotate(${rotate} ${r(x)} ${r(y)})"` : "";
  const w = weight === "bold" ? ` font-weight="bold"` : "";
  return `<text x="${r(x)}" y="${r(y)}" font-size="${size}" text-anchor="${anchor}" fill="${fill}"${w}${tr}${attrs ? " " + attrs : ""}>${esc(s)}</text>`;
}

/** Round a coordinate to 0.1 px for compact SVG. */
export function r(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

export function svgDoc(width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">\n` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>\n${body}\n</svg>\n`
  );
}

/** About `target` round tick values covering [lo, hi] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo: number, hi: number, target = 6, minStep = 0): { ticks: number[]; step: number } {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  let step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  if (step < minStep) step = minStep;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(parseFloat((Math.round(v / step) * step).toPrecision(12)));
  }
  return { ticks, step };
}

/** Tick label: as many decimals as the tick step needs; "12k" style when the axis reaches 10,000. */
export function tickLabel(v: number, step: number, max: number): string {
  if (Math.abs(max) >= 1e6) return v === 0 ? "0" : sci(v);
  if (Math.abs(max) >= 10000 && step >= 100) {
    const decimals = Math.max(0, Math.ceil(-Math.log10(step / 1000) - 1e-9));
    return `${parseFloat((v / 1000).toFixed(decimals))}k`;
  }
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return v.toFixed(decimals);
}

/** "3.5e8" style, three significant digits at most. */
export function sci(v: number): string {
  return parseFloat(v.toPrecision(3)).toExponential().replace("e+", "e");
}

/** A loss for display: 4 decimals, or "1.43e9" style when huge. */
export function lossText(v: number): string {
  return Math.abs(v) >= 1e4 ? sci(v) : v.toFixed(4);
}

/** Linear map from [d0, d1] to [r0, r1]. */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

export interface Rect { x: number; y: number; w: number; h: number }

export interface AxesOpts {
  plot: Rect;
  xTicks: number[];
  yTicks: number[];
  sx: (v: number) => number;
  sy: (v: number) => number;
  xLabel: (v: number) => string;
  yLabel: (v: number) => string;
  xTitle: string;
  yTitle: string;
}

/** Grid lines, the plot frame, tick labels and axis titles. */
export function axes(o: AxesOpts): string {
  const { plot: p } = o;
  const out: string[] = [];
  for (const t of o.yTicks) {
    const y = o.sy(t);
    out.push(`<line x1="${r(p.x)}" y1="${r(y)}" x2="${r(p.x + p.w)}" y2="${r(y)}" stroke="${COLORS.grid}" stroke-width="1"/>`);
    out.push(`<line x1="${r(p.x - 5)}" y1="${r(y)}" x2="${r(p.x)}" y2="${r(y)}" stroke="${COLORS.axis}" stroke-width="1"/>`);
    out.push(text(p.x - 8, y + 4.5, o.yLabel(t), { size: 12, anchor: "end", fill: COLORS.muted }));
  }
  for (const t of o.xTicks) {
    const x = o.sx(t);
    out.push(`<line x1="${r(x)}" y1="${r(p.y)}" x2="${r(x)}" y2="${r(p.y + p.h)}" stroke="${COLORS.grid}" stroke-width="1"/>`);
    out.push(`<line x1="${r(x)}" y1="${r(p.y + p.h)}" x2="${r(x)}" y2="${r(p.y + p.h + 5)}" stroke="${COLORS.axis}" stroke-width="1"/>`);
    out.push(text(x, p.y + p.h + 20, o.xLabel(t), { size: 12, anchor: "middle", fill: COLORS.muted }));
  }
  out.push(`<rect x="${r(p.x)}" y="${r(p.y)}" width="${r(p.w)}" height="${r(p.h)}" fill="none" stroke="${COLORS.axis}" stroke-width="1"/>`);
  out.push(text(p.x + p.w / 2, p.y + p.h + 44, o.xTitle, { size: 13, anchor: "middle" }));
  const yMid = p.y + p.h / 2;
  out.push(text(22, yMid, o.yTitle, { size: 13, anchor: "middle", rotate: -90 }));
  return out.join("\n");
}

/** Chart title (and an optional grey subtitle line) at the top left. */
export function header(width: number, title: string, subtitle?: string): string {
  let s = text(24, 30, fit(title, width - 48, 19, true), { size: 19, weight: "bold" });
  if (subtitle) s += "\n" + text(24, 51, fit(subtitle, width - 48, 12), { size: 12, fill: COLORS.muted });
  return s;
}

export interface LegendItem {
  label: string;
  color: string;
  /** "line" (default), "line-marker", "marker", "box" or "dash". */
  kind?: "line" | "line-marker" | "marker" | "box" | "dash";
}

/** Width of a legend drawn with `legend`. */
export function legendWidth(items: LegendItem[]): number {
  return items.reduce((w, it) => w + 30 + textWidth(it.label, 12) + 16, 0) - 16;
}

/** A one-row legend whose right edge is at `right`, baseline at `y`. */
export function legend(items: LegendItem[], right: number, y: number): string {
  let x = right - legendWidth(items);
  const out: string[] = [];
  for (const it of items) {
    const k = it.kind ?? "line", cy = y - 4;
    if (k === "box") out.push(`<rect x="${r(x + 4)}" y="${r(cy - 7)}" width="16" height="14" fill="${it.color}" rx="2"/>`);
    if (k === "line" || k === "line-marker") out.push(`<line x1="${r(x)}" y1="${r(cy)}" x2="${r(x + 24)}" y2="${r(cy)}" stroke="${it.color}" stroke-width="2.5"/>`);
    if (k === "dash") out.push(`<line x1="${r(x)}" y1="${r(cy)}" x2="${r(x + 24)}" y2="${r(cy)}" stroke="${it.color}" stroke-width="2" stroke-dasharray="5 3"/>`);
    if (k === "marker" || k === "line-marker") out.push(`<circle cx="${r(x + 12)}" cy="${r(cy)}" r="4" fill="${it.color}" stroke="#ffffff" stroke-width="1"/>`);
    out.push(text(x + 30, y, it.label, { size: 12 }));
    x += 30 + textWidth(it.label, 12) + 16;
  }
  return out.join("\n");
}

/** SVG path "M x y L x y ..." through the points. */
export function pathD(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i ? "L" : "M"}${r(x)} ${r(y)}`).join("");
}

/** Centred moving average over `w` points (the window shrinks at both ends, so the curve neither lags
 *  behind the data nor jumps at the start). */
export function centeredAverage(values: readonly number[], w: number): number[] {
  const half = Math.floor(w / 2), n = values.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + values[i];
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - half), b = Math.min(n, i + half + 1);
    out[i] = (prefix[b] - prefix[a]) / (b - a);
  }
  return out;
}

/**
 * At most about `max` points: the x range is cut into max/2 buckets and each keeps its lowest and
 * highest point (in x order), so spikes survive the downsampling. Points must be sorted by x.
 */
export function downsample(points: [number, number][], max = 1000): [number, number][] {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor(max / 2));
  const out: [number, number][] = [];
  const per = points.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const a = Math.floor(b * per), e = Math.min(points.length, Math.floor((b + 1) * per));
    if (e <= a) continue;
    let lo = a, hi = a;
    for (let i = a + 1; i < e; i++) {
      if (points[i][1] < points[lo][1]) lo = i;
      if (points[i][1] > points[hi][1]) hi = i;
    }
    if (lo === hi) out.push(points[lo]);
    else if (lo < hi) out.push(points[lo], points[hi]);
    else out.push(points[hi], points[lo]);
  }
  return out;
}

/** "78.5 %" for a fraction; "–" for NaN/undefined. */
export function pct(v: number | undefined, decimals = 1): string {
  return v === undefined || !Number.isFinite(v) ? "–" : `${(v * 100).toFixed(decimals)} %`;
}
