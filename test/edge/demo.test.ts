// The demo page, the widget script and the sample images, served by the Worker.
import { describe, expect, it } from "vitest";
import { SAMPLES } from "../../edge/demo/samples.ts";
import { errorOf, tinyApp, tinyModelBytes } from "./helpers.ts";
import { createApp } from "../../edge/app.ts";

describe("GET /", () => {
  it("shows the model's name, accuracy, labels, the widget and the snippet to copy", async () => {
    const res = await tinyApp().request("https://cls.example/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("<title>tiny · edge-cnn</title>");
    expect(html).toContain("50.0 % on held-out validation images");
    for (const l of ["cat", "dog", "hand"]) expect(html).toContain(`<span>${l}</span>`);
    expect(html).toContain('<edge-classifier endpoint="https://cls.example" top="3">');
    expect(html).toContain("&#60;script type=&#34;module&#34; src=&#34;https://cls.example/widget.js&#34;&#62;&#60;/script&#62;");
    expect(html).not.toContain("preview</span>");
    for (const s of SAMPLES) expect(html).toContain(`/samples/${s.name}`);
  });

  it("marks a preview model and escapes metadata", async () => {
    const app = createApp({ modelBytes: tinyModelBytes({ name: "<b>x</b>", preview: true }) });
    const html = await (await app.request("/")).text();
    expect(html).toContain("&#60;b&#62;x&#60;/b&#62;");
    expect(html).not.toContain("<b>x</b>");
    expect(html).toContain('class="badge"');
  });

  it("is a 500 JSON error naming the problem when the model file is bad", async () => {
    const app = createApp({ modelBytes: new Uint8Array([1, 2, 3]) });
    const res = await app.request("/");
    expect(res.status).toBe(500);
    expect((await errorOf(res)).code).toBe("model_invalid");
  });
});

describe("GET /widget.js and /samples", () => {
  it("serves the widget as JavaScript any site can load", async () => {
    const res = await tinyApp().request("/widget.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const js = await res.text();
    expect(js).toContain("edge-classifier");
    expect(js.length).toBeGreaterThan(5000);
  });

  it("serves every sample image with its type, and 404 JSON for others", async () => {
    for (const s of SAMPLES) {
      const res = await tinyApp().request(`/samples/${s.name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(s.type);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(bytes[0]).toBe(s.type === "image/png" ? 0x89 : 0xff);
    }
    const res = await tinyApp().request("/samples/nope.jpg");
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("not_found");
  });

  it("serves the CNN kernels for the widget's local mode as Wasm any site can fetch", async () => {
    const res = await tinyApp().request("/widget/kernels.wasm");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/wasm");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it.each(["jpeg", "webp"])("serves the shared %s decoder for the widget as Wasm any site can fetch", async (name) => {
    const res = await tinyApp().request(`/widget/${name}.wasm`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/wasm");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it("answers 405 for POST /", async () => {
    const res = await tinyApp().request("/", { method: "POST" });
    expect(res.status).toBe(405);
  });
});
