// writeReport on synthetic data: every file is written, each PNG decodes with sharp at the expected
// size and is not blank, index.html links every picture and escapes labels; plus the edge cases
// (one epoch, thousands of steps, NaN losses, 2 and 12 classes, no samples, bad input).

import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { confusionChart, esc, lossChart, samplesChart, writeReport, type ReportData, type ReportResult } from "../../../trainer/report/index.ts";
import { downsample, niceTicks, textWidth, fit } from "../../../trainer/report/svg.ts";
import { picture, syntheticReport } from "./synthetic.ts";

const BAD_LABEL = `<b>&"cat"`;
let root: string;
beforeAll(async () => { root = await mkdtemp(join(tmpdir(), "edge-cnn-report-")); });
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

/** Decode a PNG and check its size and that it is not one flat colour. */
async function checkPng(path: string, width: number, height: number): Promise<void> {
  const img = sharp(await readFile(path));
  const meta = await img.metadata();
  expect(meta.format, path).toBe("png");
  expect([meta.width, meta.height], path).toEqual([width, height]);
  const stats = await img.stats();
  expect(stats.channels.slice(0, 3).some((c) => c.stdev > 5), `${path} is blank`).toBe(true);
}

describe("writeReport with everything", () => {
  let dir: string, res: ReportResult, html: string;
  beforeAll(async () => {
    dir = join(root, "full", "nested"); // created on demand
    await writeFile(join(root, "placeholder"), "");
    res = await writeReport(dir, { ...syntheticReport(), createdAt: "2026-01-02T03:04:05Z" });
    html = await readFile(join(dir, "index.html"), "utf8");
  });

  it("writes index.html, metrics.json and the five pictures", async () => {
    const names = ["loss.png", "accuracy.png", "confusion.png", "samples.png", "crossval.png"];
    expect(res.files.sort()).toEqual(["index.html", "metrics.json", ...names].sort());
    expect((await readdir(dir)).sort()).toEqual(res.files.sort());
    expect(res.images.map((im) => im.file).sort()).toEqual([...names].sort());
  });

  it("renders PNGs at twice the layout size that decode and are not blank", async () => {
    for (const im of res.images) await checkPng(join(dir, im.file), im.width, im.height);
    const bySize = Object.fromEntries(res.images.map((im) => [im.file, [im.width, im.height]]));
    expect(bySize["loss.png"]).toEqual([1800, 1000]);
    expect(bySize["accuracy.png"]).toEqual([1800, 1000]);
    expect(bySize["crossval.png"]).toEqual([1800, 1000]);
    expect(bySize["confusion.png"][0]).toBeGreaterThanOrEqual(1280);
    expect(bySize["samples.png"][0]).toBeGreaterThanOrEqual(1040);
  });

  it("index.html links every picture and metrics.json, with relative links and no script", () => {
    for (const im of res.images) {
      expect(html).toContain(`<img src="${im.file}"`);
    }
    expect(html).toContain(`href="metrics.json"`);
    expect(html).not.toContain("log.jsonl"); // not present in this folder
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(\/|https?:)/);
    expect(html).toContain("<style>");
  });

  it("index.html shows the summary and escapes labels and the title", () => {
    expect(html).toContain("&lt;b&gt;&amp;&quot;cat&quot;");
    expect(html).not.toContain(BAD_LABEL);
    expect(html).toContain("<title>synthetic &lt;run&gt; &amp; &quot;quotes&quot;");
    expect(html).toContain("npx edge-cnn train --data ./photos");
    expect(html).toContain("models/photos.bin");
    expect(html).toMatch(/<th>precision<\/th><th>recall<\/th><th>accuracy<\/th>/);
    expect(html).toContain("75.8 % ± 4.1 %"); // cross-validation mean ± std
    expect(html).toContain("2026-01-02T03:04:05Z");
  });

  it("metrics.json holds the numbers", async () => {
    const m = JSON.parse(await readFile(join(dir, "metrics.json"), "utf8"));
    expect(m.title).toContain("synthetic");
    expect(m.evaluation.labels).toContain(BAD_LABEL);
    expect(m.evaluation.confusion).toHaveLength(10);
    expect(m.evaluation.perClass[3].label).toBe(BAD_LABEL);
    expect(m.evaluation.accuracy).toBeCloseTo(m.evaluation.confusionAccuracy, 12);
    expect(m.steps).toHaveLength(500);
    expect(m.epochs).toHaveLength(10);
    expect(m.crossval.accuracies).toEqual([0.78, 0.74, 0.81, 0.77, 0.69]);
    expect(m.samples[0]).toHaveProperty("correct");
    expect(m.samples[0]).not.toHaveProperty("rgb");
    expect(m.seconds).toBeGreaterThan(0);
  });
});

describe("writeReport edge cases", () => {
  it("one epoch, two classes, NaN losses and thousands of steps", async () => {
    const data = syntheticReport({ classes: ["cat", "dog"], epochs: 1, stepsPerEpoch: 5000, nanSteps: 40, samples: 3 });
    const dir = join(root, "two");
    const res = await writeReport(dir, data, { scale: 1 });
    for (const im of res.images) await checkPng(join(dir, im.file), im.width, im.height);
    expect(res.images.find((im) => im.file === "loss.png")).toMatchObject({ width: 900, height: 500 });
    const m = JSON.parse(await readFile(join(dir, "metrics.json"), "utf8"));
    expect(m.steps.at(-1).loss).toBeNull(); // NaN becomes null in JSON
  });

  it("only cross-validation: draws crossval.png alone and removes stale pictures", async () => {
    const dir = join(root, "cv");
    await writeReport(dir, syntheticReport(), { scale: 1 });
    await writeFile(join(dir, "log.jsonl"), `{"step":1,"loss":2.3}\n`);
    const res = await writeReport(dir, { title: "crossval", crossval: { accuracies: [0.7, 0.8, 0.75] } }, { scale: 1 });
    expect(res.images.map((im) => im.file)).toEqual(["crossval.png"]);
    expect((await readdir(dir)).sort()).toEqual(["crossval.png", "index.html", "log.jsonl", "metrics.json"]);
    const html = await readFile(join(dir, "index.html"), "utf8");
    expect(html).toContain(`href="log.jsonl"`);
    expect(html).toContain("75.0 % ± 4.1 %");
    const m = JSON.parse(await readFile(join(dir, "metrics.json"), "utf8"));
    expect(m.crossval.mean).toBeCloseTo(0.75, 12);
  });

  it("empty samples and no steps: no samples.png, loss drawn per epoch", async () => {
    const dir = join(root, "nosamples");
    const { steps: _steps, crossval: _cv, ...rest } = syntheticReport({ epochs: 4 });
    const res = await writeReport(dir, { ...rest, samples: [] }, { scale: 1 });
    expect(res.images.map((im) => im.file)).toEqual(["loss.png", "accuracy.png", "confusion.png"]);
    const svg = lossChart([], rest.epochs)!.svg;
    expect(svg).toContain(">epoch</text>");
    await checkPng(join(dir, "loss.png"), 900, 500);
  });

  it("a run whose every loss is NaN still gets a loss picture that says so", async () => {
    const svg = lossChart([{ step: 1, loss: NaN }, { step: 2, loss: Infinity }])!.svg;
    expect(svg).toContain("all 2 losses are NaN or infinite");
    const dir = join(root, "diverged");
    const res = await writeReport(dir, { title: "diverged", steps: [{ step: 1, loss: NaN }, { step: 2, loss: NaN }] }, { scale: 1 });
    await checkPng(join(dir, "loss.png"), 900, 500);
    expect(res.images).toHaveLength(1);
  });

  it("a title only still gives a page", async () => {
    const dir = join(root, "bare");
    const res = await writeReport(dir, { title: "nothing yet" });
    expect(res.files).toEqual(["index.html", "metrics.json"]);
    expect(await readFile(join(dir, "index.html"), "utf8")).toContain("<h1>nothing yet</h1>");
  });

  it("rejects malformed data before writing anything, naming the field", async () => {
    const dir = join(root, "bad");
    const base: ReportData = { title: "x" };
    await expect(writeReport(dir, { ...base, epochs: [{ epoch: 1, valAccuracy: 75 }] })).rejects.toThrow(/epochs\[0\]\.valAccuracy is 75; .*fractions in \[0, 1\]/);
    await expect(writeReport(dir, { ...base, samples: [{ rgb: new Uint8Array(10), size: [32, 32], label: "a", predicted: "a", score: 1 }] }))
      .rejects.toThrow(/samples\[0\]\.rgb must be a Uint8Array of 32x32x3 = 3072 bytes, got 10/);
    await expect(writeReport(dir, { ...base, evaluation: { accuracy: 1, labels: ["a", "b"], confusion: [[1, 0]] } }))
      .rejects.toThrow(/evaluation\.confusion must have 2 rows/);
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });
});

describe("charts", () => {
  it("escapes labels in SVG and keeps the document well formed", () => {
    const { svg } = confusionChart([BAD_LABEL, "dog"], [[3, 1], [0, 4]])!;
    expect(svg).toContain("&lt;b&gt;&amp;&quot;cat&quot;");
    expect(svg).not.toContain(BAD_LABEL);
    expect(esc("a\u0000b<")).toBe("a\ufffdb&lt;");
  });

  it("writes the count in every confusion cell, white on dark cells", () => {
    const { svg } = confusionChart(["a", "b"], [[90, 10], [30, 70]])!;
    for (const v of [90, 10, 30, 70]) expect(svg).toMatch(new RegExp(`>${v}</text>`));
    expect(svg).toMatch(/fill="#ffffff" font-weight="bold">90</);
    expect(svg).not.toMatch(/fill="#ffffff"[^>]*>10</);
  });

  it("downsamples thousands of steps to about 1000 points and keeps spikes", () => {
    const steps = Array.from({ length: 20000 }, (_, i) => ({ step: i + 1, loss: i === 12345 ? 9 : 1 + Math.sin(i) * 0.1 }));
    const svg = lossChart(steps)!.svg;
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1].split(/[ML]/).length - 1);
    expect(paths.length).toBe(2); // raw + moving average
    for (const n of paths) expect(n).toBeLessThanOrEqual(1000);
    const pts = downsample(steps.map((s): [number, number] => [s.step, s.loss]), 1000);
    expect(pts.length).toBeLessThanOrEqual(1000);
    expect(pts.some((p) => p[1] === 9)).toBe(true);
  });

  it("a loss that blows up is cut off at the top and marked where it turns NaN", () => {
    const steps = Array.from({ length: 300 }, (_, i) => ({ step: i + 1, loss: i < 200 ? 2 - i / 200 : i < 250 ? 10 ** (i - 200) : NaN }));
    const svg = lossChart(steps)!.svg;
    expect(svg).toMatch(/y axis cut at [\d.]+ \(max 1e49\)/);
    expect(svg).toContain("first NaN/∞");
    expect(svg).toContain("50 of 300 losses are NaN or infinite (first at step 251)");
    const coords = [...svg.matchAll(/<path d="([^"]+)"/g)].flatMap((m) => m[1].split(/[ML ]/).filter(Boolean).map(Number));
    for (const c of coords) expect(Math.abs(c)).toBeLessThan(2000); // huge coordinates make cairo drop the path
  });

  it("draws each sample with a green or red frame and the labels", () => {
    const s = (label: string, predicted: string) => ({ rgb: picture(32, 32, 1), size: [32, 32] as [number, number], label, predicted, score: 0.9 });
    const { svg } = samplesChart([s("cat", "cat"), s(BAD_LABEL, "dog")], ["data:image/png;base64,AA==", "data:image/png;base64,AA=="])!;
    expect(svg).toContain("Samples: 1 of 2 right");
    expect(svg).toContain("true: &lt;b&gt;&amp;&quot;cat&quot;");
    expect(svg).toContain("✗ dog 90 %");
    expect(samplesChart([], [])).toBeNull();
  });

  it("has round ticks and fits long text", () => {
    expect(niceTicks(0, 2.6, 6).ticks).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(niceTicks(1, 15320, 8).ticks).toEqual([2000, 4000, 6000, 8000, 10000, 12000, 14000]);
    const long = "a very long folder name for a class";
    const short = fit(long, 100, 13);
    expect(short.endsWith("…")).toBe(true);
    expect(textWidth(short, 13)).toBeLessThanOrEqual(100);
  });
});
