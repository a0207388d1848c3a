// index.html: a self-contained page (inline CSS, no JS, relative links) that opens from the disk.

import { duration, num } from "./format.ts";
import { esc, pct } from "./svg.ts";
import type { ClassMetrics, Crossval, EpochPoint, Evaluation, ReportData } from "./types.ts";

/** The page's view of the data: `evaluation.perClass` and `crossval.mean/std` filled in. */
export interface HtmlInput extends ReportData {
  createdAt: string;
  evaluation?: Evaluation & { perClass: ClassMetrics[] };
  crossval?: Crossval & { mean: number; std: number };
}

/** A picture as the page shows it: at layout size (the PNG may have more pixels). */
export interface HtmlImage {
  file: string;
  width: number;
  height: number;
  alt: string;
  caption: string;
}

const CSS = `
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #222; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 19px; margin: 32px 0 10px; border-bottom: 1px solid #dde1e6; padding-bottom: 4px; }
.meta { color: #555; margin: 0 0 12px; }
dl.info { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 12px 0; }
dl.info dt { color: #666; }
dl.info dd { margin: 0; overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 10px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card .k { color: #666; font-size: 13px; }
.card .v { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .s { color: #666; font-size: 12px; }
table { border-collapse: collapse; background: #fff; border: 1px solid #dde1e6; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; border-bottom: 1px solid #eceef1; text-align: right; }
th { background: #f0f2f5; font-weight: 600; }
th:first-child, td:first-child { text-align: left; overflow-wrap: anywhere; max-width: 320px; }
tr.low td { color: #b3261e; }
.scroll { max-height: 420px; overflow: auto; display: inline-block; max-width: 100%; }
figure { margin: 16px 0 24px; }
figure img { display: block; max-width: 100%; height: auto; background: #fff; border: 1px solid #dde1e6; border-radius: 6px; }
figcaption { color: #555; font-size: 13px; margin-top: 4px; }
ul.files { padding-left: 20px; }
footer { color: #888; font-size: 12px; margin-top: 40px; }
`;

function card(k: string, v: string, s?: string): string {
  return `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div>${s ? `<div class="s">${esc(s)}</div>` : ""}</div>`;
}

function cards(d: HtmlInput, totalSeconds: number | undefined): string {
  const out: string[] = [];
  const ev = d.evaluation;
  if (ev) {
    const total = ev.confusion.flat().reduce((a, b) => a + b, 0);
    out.push(card("accuracy", pct(ev.accuracy), ev.dataset ?? `${total.toLocaleString("en-US")} images`));
    if (ev.loss !== undefined) out.push(card("loss", num(ev.loss), "mean cross-entropy"));
  }
  const epochs = d.epochs ?? [];
  const withVal = epochs.filter((e) => Number.isFinite(e.valAccuracy));
  if (withVal.length) {
    const last = withVal[withVal.length - 1];
    const best = withVal.reduce((b, e) => (e.valAccuracy! > b.valAccuracy! ? e : b));
    out.push(card("validation accuracy", pct(last.valAccuracy), `epoch ${last.epoch} · best ${pct(best.valAccuracy)} at epoch ${best.epoch}`));
  }
  const withTrain = epochs.filter((e) => Number.isFinite(e.trainAccuracy));
  if (withTrain.length) {
    const last = withTrain[withTrain.length - 1];
    out.push(card("train accuracy", pct(last.trainAccuracy), `epoch ${last.epoch}`));
  }
  const steps = d.steps ?? [];
  if (steps.length) {
    const finite = steps.filter((s) => Number.isFinite(s.loss));
    const tail = finite.slice(-Math.min(50, finite.length));
    const mean = tail.length ? tail.reduce((a, s) => a + s.loss, 0) / tail.length : NaN;
    const bad = steps.length - finite.length;
    out.push(card("training loss", num(mean), `mean of the last ${tail.length} of ${steps.length.toLocaleString("en-US")} steps` + (bad ? ` · ${bad} NaN/∞` : "")));
  }
  if (d.crossval) out.push(card("cross-validation", `${pct(d.crossval.mean)} ± ${pct(d.crossval.std)}`, `mean ± std over ${d.crossval.accuracies.length} splits`));
  if (totalSeconds !== undefined) {
    const timed = epochs.filter((e) => Number.isFinite(e.seconds));
    const per = timed.length ? ` · ${duration(timed.reduce((a, e) => a + e.seconds!, 0) / timed.length)} per epoch` : "";
    out.push(card("time", duration(totalSeconds), `${epochs.length ? `${epochs.length} epoch${epochs.length === 1 ? "" : "s"}` : "wall clock"}${per}`));
  }
  return out.length ? `<section class="cards">${out.join("")}</section>` : "";
}

function perClassTable(ev: HtmlInput["evaluation"] & object): string {
  const rows = ev.perClass.map((c) => {
    const low = c.support > 0 && c.recall < ev.accuracy - 0.15;
    return `<tr${low ? ` class="low"` : ""}><td>${esc(c.label)}</td><td>${c.support}</td><td>${pct(c.precision)}</td><td>${pct(c.recall)}</td><td>${pct(c.accuracy)}</td><td>${num(c.f1, 3)}</td></tr>`;
  });
  return `<h2>Per class</h2>
<p class="meta">Precision: of the images predicted as the class, the share that are. Recall (= the class's accuracy): of the images of the class, the share predicted right. Rows in red are well below the overall accuracy.</p>
<div class="scroll"><table><thead><tr><th>class</th><th>images</th><th>precision</th><th>recall</th><th>accuracy</th><th>F1</th></tr></thead><tbody>
${rows.join("\n")}
</tbody></table></div>`;
}

function epochTable(epochs: EpochPoint[]): string {
  const cols: [keyof EpochPoint, string, (v: number) => string][] = [
    ["trainLoss", "train loss", (v) => num(v)],
    ["trainAccuracy", "train accuracy", (v) => pct(v)],
    ["valLoss", "validation loss", (v) => num(v)],
    ["valAccuracy", "validation accuracy", (v) => pct(v)],
    ["seconds", "time", (v) => duration(v)],
  ];
  const used = cols.filter(([k]) => epochs.some((e) => e[k] !== undefined));
  const head = `<tr><th>epoch</th>${used.map(([, h]) => `<th>${h}</th>`).join("")}</tr>`;
  const rows = epochs.map((e) => `<tr><td>${e.epoch}</td>${used.map(([k, , f]) => `<td>${e[k] === undefined ? "–" : esc(f(e[k] as number))}</td>`).join("")}</tr>`);
  return `<h2>Epochs</h2>\n<div class="scroll"><table><thead>${head}</thead><tbody>\n${rows.join("\n")}\n</tbody></table></div>`;
}

function crossvalTable(cv: NonNullable<HtmlInput["crossval"]>): string {
  const rows = cv.accuracies.map((a, i) => `<tr><td>split ${i + 1}</td><td>${pct(a)}</td></tr>`);
  rows.push(`<tr><th>mean ± std</th><th>${pct(cv.mean)} ± ${pct(cv.std)}</th></tr>`);
  return `<h2>Cross-validation</h2>\n<div class="scroll"><table><thead><tr><th>split</th><th>accuracy</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table></div>`;
}

function extraTable(extra: Record<string, unknown>): string {
  const entries = Object.entries(extra).filter(([, v]) => v !== undefined);
  if (!entries.length) return "";
  const show = (v: unknown) => {
    const s = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
    return s.length > 400 ? s.slice(0, 400) + "…" : s;
  };
  const rows = entries.map(([k, v]) => `<tr><td>${esc(k)}</td><td style="text-align:left"><code>${esc(show(v))}</code></td></tr>`);
  return `<h2>Details</h2>\n<table><tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

/** The whole page. `links` are further files in the folder to list (metrics.json, log.jsonl). */
export function renderHtml(d: HtmlInput, images: HtmlImage[], links: { file: string; label: string }[], totalSeconds?: number): string {
  const info: string[] = [];
  if (d.command) info.push(`<dt>command</dt><dd><pre><code>${esc(d.command)}</code></pre></dd>`);
  if (d.model) info.push(`<dt>model file</dt><dd><code>${esc(d.model)}</code></dd>`);
  if (d.evaluation?.dataset) info.push(`<dt>evaluated on</dt><dd>${esc(d.evaluation.dataset)}</dd>`);
  info.push(`<dt>created</dt><dd>${esc(d.createdAt)}</dd>`);

  const figures = images.map((im) =>
    `<figure><a href="${esc(im.file)}"><img src="${esc(im.file)}" width="${im.width}" height="${im.height}" alt="${esc(im.alt)}"></a>` +
    `<figcaption>${esc(im.caption)}</figcaption></figure>`);
  const files = [...links, ...images.map((im) => ({ file: im.file, label: im.alt }))]
    .map((l) => `<li><a href="${esc(l.file)}">${esc(l.file)}</a> — ${esc(l.label)}</li>`);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.title)} · edge-cnn report</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(d.title)}</h1>
<p class="meta">edge-cnn report</p>
${cards(d, totalSeconds)}
<dl class="info">
${info.join("\n")}
</dl>
${d.evaluation ? perClassTable(d.evaluation) : ""}
${figures.length ? `<h2>Pictures</h2>\n${figures.join("\n")}` : ""}
${d.epochs?.length ? epochTable(d.epochs) : ""}
${d.crossval ? crossvalTable(d.crossval) : ""}
${d.extra ? extraTable(d.extra) : ""}
<h2>Files</h2>
<ul class="files">
${files.join("\n")}
</ul>
<footer>Written by edge-cnn. Open this file directly; it needs no server and no JavaScript.</footer>
</main>
</body>
</html>
`;
}
