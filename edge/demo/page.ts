// GET /: the demo page. What the model is (from its metadata), the widget, sample images to click,
// and the two lines a page author copies. Plain HTML and CSS, responsive from phone to desktop.

import type { ServedModel } from "../model.ts";
import { SAMPLES } from "./samples.ts";

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const count = (v: unknown): string => (typeof v === "number" ? v.toLocaleString("en-US") : "held-out");
const pct = (v: unknown): string | null => (typeof v === "number" ? `${(100 * v).toFixed(1)} %` : null);

export function demoPage(model: ServedModel, origin: string): string {
  const m = model.meta.metrics;
  const accuracy = pct(m.test_accuracy) ? `${pct(m.test_accuracy)} on ${count(m.test_count)} test images` : pct(m.val_accuracy) ? `${pct(m.val_accuracy)} on ${count(m.val_count)} validation images` : "not recorded";
  const snippet = `<script type="module" src="${origin}/widget.js"></script>\n<edge-classifier endpoint="${origin}"></edge-classifier>`;
  const [, h, w] = model.spec.input;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(model.meta.name)} · edge-cnn</title>
<script type="module" src="/widget.js"></script>
<style>
  :root { --fg: #111827; --muted: #6b7280; --bg: #f8fafc; --card: #fff; --border: #e5e7eb; --accent: #2563eb; }
  @media (prefers-color-scheme: dark) { :root { --fg: #f3f4f6; --muted: #9ca3af; --bg: #0b1120; --card: #111827; --border: #1f2937; --accent: #60a5fa; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
  h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
  .lede { color: var(--muted); margin: 0 0 1.5rem; }
  .badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .1rem .5rem; border-radius: 999px; background: #f59e0b; color: #111; vertical-align: middle; margin-left: .4rem; }
  .grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5rem; align-items: start; }
  @media (max-width: 760px) { .grid { grid-template-columns: minmax(0, 1fr); } }
  section { background: var(--card); border: 1px solid var(--border); border-radius: 14px; padding: 1.1rem; }
  h2 { font-size: 1.05rem; margin: 0 0 .7rem; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .3rem 1rem; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; }
  .labels { display: flex; flex-wrap: wrap; gap: .35rem; }
  .labels span { border: 1px solid var(--border); border-radius: 999px; padding: 0 .55rem; font-size: .9rem; }
  .samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(4.5rem, 1fr)); gap: .6rem; }
  .samples button { border: 1px solid var(--border); border-radius: 10px; padding: 0; background: none; cursor: pointer; overflow: hidden; aspect-ratio: 1; }
  .samples button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .samples img { width: 100%; height: 100%; object-fit: cover; display: block; image-rendering: pixelated; }
  pre { background: var(--bg); border: 1px solid var(--border); border-radius: 10px; padding: .8rem; overflow-x: auto; font-size: .85rem; margin: 0 0 .6rem; }
  .copy { font: inherit; border: 1px solid var(--accent); color: var(--accent); background: none; border-radius: 999px; padding: .3rem .9rem; cursor: pointer; }
  edge-classifier { max-width: none; }
  .stack { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.5rem; }
  a { color: var(--accent); }
</style>
</head>
<body>
<main>
  <h1>${esc(model.meta.name)} <small style="font-weight:400;color:var(--muted)">${esc(model.meta.version)}</small>${model.meta.preview ? '<span class="badge" title="Trained briefly; not for real use">preview</span>' : ""}</h1>
  <p class="lede">An image classifier trained with edge-cnn and running on Cloudflare's edge. Drop a photo, or click a sample.</p>
  <div class="grid">
    <div class="stack">
      <edge-classifier endpoint="${esc(origin)}" top="3"></edge-classifier>
      <section aria-labelledby="samples-h">
        <h2 id="samples-h">Samples</h2>
        <div class="samples">
          ${SAMPLES.map((s) => `<button type="button" data-src="/samples/${esc(s.name)}" aria-label="Classify the sample ${esc(s.label)} image"><img src="/samples/${esc(s.name)}" alt="${esc(s.label)}" loading="lazy"></button>`).join("\n          ")}
        </div>
      </section>
    </div>
    <div class="stack">
      <section aria-labelledby="model-h">
        <h2 id="model-h">The model</h2>
        <dl>
          <dt>Accuracy</dt><dd>${esc(accuracy)}</dd>
          <dt>Architecture</dt><dd>${esc(model.spec.name)}, ${model.parameters.toLocaleString("en-US")} parameters, ${esc(model.dtype)} weights</dd>
          <dt>Input</dt><dd>${w}x${h} pixels (photos are centre-cropped and shrunk)</dd>
          <dt>Labels</dt><dd class="labels">${model.meta.labels.map((l) => `<span>${esc(l)}</span>`).join("")}</dd>
        </dl>
      </section>
      <section aria-labelledby="embed-h">
        <h2 id="embed-h">Put it on your page</h2>
        <pre><code id="snippet">${esc(snippet)}</code></pre>
        <button class="copy" type="button">Copy</button>
        <p style="color:var(--muted);font-size:.9rem;margin:.6rem 0 0">Add <code>mode="local"</code> to classify in the visitor's browser (no image leaves the device). API: <a href="/v1/model">/v1/model</a>, <code>POST /v1/classify</code>.</p>
      </section>
    </div>
  </div>
</main>
<script type="module">
  const widget = document.querySelector("edge-classifier");
  for (const b of document.querySelectorAll(".samples button")) {
    b.addEventListener("click", async () => {
      const res = await fetch(b.dataset.src);
      await customElements.whenDefined("edge-classifier");
      widget.classify(await res.blob());
    });
  }
  const copy = document.querySelector(".copy");
  copy.addEventListener("click", async () => {
    await navigator.clipboard.writeText(document.getElementById("snippet").textContent);
    copy.textContent = "Copied";
    setTimeout(() => (copy.textContent = "Copy"), 1500);
  });
</script>
</body>
</html>`;
}
