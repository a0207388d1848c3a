// The widget in headless Chromium: remote and local mode agree with `edge-cnn predict` on the same
// files, it works embedded on another origin (CORS), bad files show their messages, the keyboard
// reaches the file picker, and the demo page looks right on a phone and a desktop (screenshots in
// test-artifacts/, git-ignored: look at them).

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARCHITECTURES, defaultPreprocess, encodeModel, initNetwork, Network } from "../../shared/index.ts";
import { predictFiles } from "../../trainer/commands/predict.ts";
import { startHostPage, startWorker } from "./servers.ts";

const MODEL = "models/cifar10.bin";
const ARTIFACTS = "test-artifacts/browser";
// The last three are made in beforeAll: a 12 MP progressive JPEG with EXIF orientation, a 3 MP PNG and
// a 12 MP WebP, which the shared decoders reduce (1/8, 1/4) in the page exactly as the trainer does.
const LARGE_JPEG = join(ARTIFACTS, "large-12mp-progressive-exif6.jpg"), LARGE_PNG = join(ARTIFACTS, "large-3mp.png");
const LARGE_WEBP = join(ARTIFACTS, "large-12mp.webp");
const FIXTURES = ["test/fixtures/edge/cat-320x240.jpg", "test/fixtures/edge/dog.webp", "test/fixtures/edge/cat-alpha.png", "test/fixtures/edge/sign-exif-orientation-6.jpg", LARGE_JPEG, LARGE_PNG, LARGE_WEBP];

let worker: { url: string; stop: () => void };
let browser: Browser;
const hosts: { close(): void }[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const photo = sharp("test/fixtures/edge/dog-500x375-progressive.jpg");
  writeFileSync(LARGE_JPEG, await photo.clone().resize(4032, 3024).jpeg({ quality: 85, progressive: true }).withMetadata({ orientation: 6 }).toBuffer());
  writeFileSync(LARGE_PNG, await photo.clone().resize(2000, 1500).png().toBuffer());
  writeFileSync(LARGE_WEBP, await photo.clone().resize(4032, 3024).webp({ quality: 80 }).toBuffer());
  worker = await startWorker(8700 + Math.floor(Math.random() * 80));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

afterAll(async () => {
  await browser?.close();
  for (const h of hosts) h.close();
  worker?.stop();
});

async function hostPage(attrs = "", workerUrl = worker.url): Promise<Page> {
  const host = await startHostPage(workerUrl, attrs);
  hosts.push(host.server);
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") console.log(`[browser] ${m.text()}`); });
  await page.goto(host.url);
  await page.waitForFunction(() => customElements.get("edge-classifier") !== undefined);
  return page;
}

/** Picks `file` in the widget and waits for its classify or error event. */
async function pick(page: Page, file: string): Promise<{ type: string; detail: any }> {
  const before = await page.evaluate(() => (window as any).events.length);
  await page.locator("edge-classifier input.file").setInputFiles(file);
  await page.waitForFunction((n) => (window as any).events.length > n, before, { timeout: 30_000 });
  return page.evaluate(() => (window as any).events.at(-1));
}

for (const mode of ["remote", "local"] as const) {
  describe(`${mode} mode, widget on another origin`, () => {
    it("agrees with `edge-cnn predict` on the same files (same top-1, probabilities within 1e-4)", async () => {
      const page = await hostPage(`mode="${mode}" top="10"`);
      const expected = await predictFiles(MODEL, FIXTURES, 10);
      const report: string[] = [];
      for (const [i, file] of FIXTURES.entries()) {
        const event = await pick(page, file);
        expect(event.type, `${file}: ${JSON.stringify(event.detail)}`).toBe("classify");
        expect(event.detail.mode).toBe(mode);
        if (mode === "local") expect(event.detail.kernels).toBe("wasm-simd"); // /widget/kernels.wasm compiled in the page
        const got = event.detail.predictions as { label: string; score: number }[];
        const want = expected[i].predictions!;
        expect(got[0].label, file).toBe(want[0].label);
        const byLabel = new Map(got.map((p) => [p.label, p.score]));
        const diff = Math.max(...want.map((p) => Math.abs(p.score - byLabel.get(p.label)!)));
        report.push(`${file}: top-1 ${got[0].label}, max |p - p_predict| = ${diff.toExponential(2)}`);
        expect(diff, file).toBeLessThan(1e-4);
      }
      console.log(`${mode} mode:\n  ${report.join("\n  ")}`);
      await page.screenshot({ path: join(ARTIFACTS, `host-${mode}.png`), fullPage: true });
      await page.close();
    });
  });
}

describe("models with larger inputs (--input-size 64 and 96)", () => {
  // Untrained airbench-small nets at 64x64 and 96x96 (batchnorm folded on load, as for any model),
  // served by `edge-cnn serve` beside the shipped one: both modes must give predict's probabilities.
  let big: { url: string; stop: () => void };
  const files = [64, 96].map((n) => join(ARTIFACTS, `big${n}.bin`));
  beforeAll(async () => {
    for (const [i, n] of [64, 96].entries()) {
      const net = new Network(ARCHITECTURES["airbench-small"](3, n));
      initNetwork(net, 7 + n);
      const preprocess = { ...defaultPreprocess([n, n]), views: "flip" as const };
      writeFileSync(files[i], encodeModel(net, { name: `big${n}`, version: "1.0.0", labels: ["a", "b", "c"], preprocess, metrics: {}, provenance: {} }, "f32"));
    }
    big = await startWorker(8790 + Math.floor(Math.random() * 80), [MODEL, ...files]);
  });
  afterAll(() => big?.stop());
  for (const mode of ["remote", "local"] as const) {
    it(`${mode} mode agrees with \`edge-cnn predict\` at 64x64 and 96x96 (same top-1, probabilities within 1e-4)`, async () => {
      for (const [i, n] of [64, 96].entries()) {
        const page = await hostPage(`model="big${n}" mode="${mode}" top="3"`, big.url);
        const expected = await predictFiles(files[i], [FIXTURES[0], LARGE_JPEG], 3);
        for (const [k, file] of [FIXTURES[0], LARGE_JPEG].entries()) {
          const event = await pick(page, file);
          expect(event.type, `${n}: ${file}: ${JSON.stringify(event.detail)}`).toBe("classify");
          expect(event.detail.model.name).toBe(`big${n}`);
          const got = event.detail.predictions as { label: string; score: number }[];
          const want = expected[k].predictions!;
          expect(got[0].label, `${n}: ${file}`).toBe(want[0].label);
          const byLabel = new Map(got.map((p) => [p.label, p.score]));
          expect(Math.max(...want.map((p) => Math.abs(p.score - byLabel.get(p.label)!))), `${n}: ${file}`).toBeLessThan(1e-4);
        }
        await page.close();
      }
    });
  }
});

describe('model="NAME"', () => {
  for (const mode of ["remote", "local"] as const) {
    it(`${mode} mode classifies with the named model (/v1/models/NAME)`, async () => {
      const page = await hostPage(`model="cifar10" mode="${mode}"`);
      const event = await pick(page, FIXTURES[0]);
      expect(event.type).toBe("classify");
      expect(event.detail.model.name).toBe("cifar10");
      expect(event.detail.mode).toBe(mode);
      await page.close();
    });
  }

  it("an unknown name shows the Worker's message naming the models that exist", async () => {
    const page = await hostPage(`model="nope"`);
    const event = await pick(page, FIXTURES[0]);
    expect(event.type).toBe("error");
    expect(event.detail.message).toContain('There is no model "nope". This Worker serves "cifar10"');
    await page.close();
  });
});

describe("errors a visitor understands", () => {
  it("a non-image file", async () => {
    const page = await hostPage();
    mkdirSync(join(ARTIFACTS, "inputs"), { recursive: true });
    const notImage = join(ARTIFACTS, "inputs", "notes.txt");
    writeFileSync(notImage, "these are my notes, not a photo");
    const event = await pick(page, notImage);
    expect(event).toEqual({ type: "error", detail: { kind: "not-an-image", message: "This file is not an image. Try a JPEG, PNG or WebP photo." } });
    await expect.poll(() => page.locator("edge-classifier .error").textContent()).toBe("This file is not an image. Try a JPEG, PNG or WebP photo.");
    const fake = join(ARTIFACTS, "inputs", "fake.png");
    writeFileSync(fake, "not really a png");
    const event2 = await pick(page, fake);
    expect(event2.detail.kind).toBe("not-an-image");
    await page.close();
  });

  it("an oversized file (max-size)", async () => {
    const page = await hostPage(`max-size="10KB"`);
    const event = await pick(page, "test/fixtures/edge/dog-500x375-progressive.jpg");
    expect(event.type).toBe("error");
    expect(event.detail.kind).toBe("too-large");
    expect(await page.locator("edge-classifier .error").textContent()).toMatch(/^This image is \d+ KB; the limit is 10 KB\. Try a smaller photo\.$/);
    await page.screenshot({ path: join(ARTIFACTS, "error-too-large.png") });
    await page.close();
  });
});

describe("accessibility", () => {
  it("keyboard only: Tab reaches the drop zone and Enter opens the file picker; results are announced", async () => {
    const page = await hostPage();
    await page.bringToFront();
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.className);
    expect(focused).toBe("drop");
    // The picker opening is observed as the hidden input's click (Chromium sometimes does not report a
    // headless file chooser to Playwright); the file then goes in through the chooser when it came.
    await page.evaluate(() => {
      const input = document.querySelector("edge-classifier")!.shadowRoot!.querySelector("input.file")!;
      input.addEventListener("click", () => ((window as any).pickerOpened = true));
    });
    let chooser: import("playwright-core").FileChooser | null = null;
    page.once("filechooser", (c) => (chooser = c));
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => (window as any).pickerOpened === true, null, { timeout: 5000 });
    await page.waitForTimeout(300);
    if (chooser) await (chooser as import("playwright-core").FileChooser).setFiles(FIXTURES[0]);
    else await page.locator("edge-classifier input.file").setInputFiles(FIXTURES[0]);
    await page.waitForFunction(() => (window as any).events.length > 0);
    await expect.poll(() => page.locator("edge-classifier [aria-live]").textContent()).toMatch(/^Top result: \w+, \d+ percent\.$/);
    await page.close();
  });
});

describe("demo page", () => {
  for (const [name, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 390, height: 844 }]] as const) {
    it(`renders on a ${name} and classifies a clicked sample`, async () => {
      const page = await browser.newPage({ viewport, deviceScaleFactor: name === "phone" ? 2 : 1 });
      await page.goto(worker.url);
      await expect.poll(() => page.locator("edge-classifier .meta").textContent(), { timeout: 15_000 }).toMatch(/ · \d+ classes · remote mode$/);
      await page.locator(".samples button").first().click();
      await expect.poll(() => page.locator("edge-classifier li").count(), { timeout: 15_000 }).toBe(3);
      await page.screenshot({ path: join(ARTIFACTS, `demo-${name}.png`), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, "no horizontal scrolling").toBeLessThanOrEqual(0);
      await page.close();
    });
  }
});
