// <edge-classifier endpoint="https://YOUR-WORKER"></edge-classifier>: a custom element (shadow DOM, no
// framework) that classifies a dropped, picked, pasted or photographed image with the edge-cnn Worker.
// Attributes: endpoint, model (a name from GET /v1/models; default: the Worker's default model), top,
// mode="remote|local", api-key, max-size. Events: "classify" (detail = the
// result) and "error" (detail = { kind, message }).

import { classifyLocal, classifyRemote, fetchModelInfo, WidgetError, type ModelInfo, type Result } from "./classifier.ts";
import { STYLES } from "./styles.ts";

const DEFAULT_MAX_SIZE = 10 * 1024 * 1024;

/** "5MB", "800KB", "1048576" -> bytes; invalid -> the default. */
export function parseSize(text: string | null): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text ?? "");
  if (!m) return DEFAULT_MAX_SIZE;
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? "b").toLowerCase() as "b"];
  return Math.round(Number(m[1]) * unit);
}

const formatBytes = (n: number): string => (n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${Math.round(n / 1024)} KB`);

export class EdgeClassifier extends HTMLElement {
  static observedAttributes = ["endpoint", "mode", "model"];
  private root: ShadowRoot;
  private info: Promise<ModelInfo> | null = null;
  private previewUrl = "";
  private els!: { drop: HTMLElement; preview: HTMLImageElement; prompt: HTMLElement; file: HTMLInputElement; camera: HTMLInputElement; results: HTMLOListElement; status: HTMLElement; error: HTMLElement; live: HTMLElement; meta: HTMLElement };

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.root.innerHTML = `
      <style>${STYLES}</style>
      <div class="card" part="container">
        <div class="drop" part="dropzone" role="button" tabindex="0" aria-describedby="hint">
          <img part="preview" alt="" hidden>
          <div class="prompt">
            <div>Drop an image here</div>
            <div class="hint" id="hint">or choose a file, paste one (Ctrl+V) or take a photo</div>
          </div>
          <div class="actions">
            <button type="button" part="button" class="pick">Choose image</button>
            <button type="button" part="button" class="secondary photo" hidden>Take photo</button>
          </div>
        </div>
        <input type="file" class="file" accept="image/*" aria-label="Image file to classify">
        <input type="file" class="camera" accept="image/*" capture="environment" aria-label="Take a photo to classify">
        <div class="busy" part="status" hidden></div>
        <div class="error" part="error" role="alert" hidden></div>
        <ol part="results" aria-label="Predictions"></ol>
        <div class="meta" part="meta"></div>
        <div class="sr" aria-live="polite"></div>
      </div>`;
    const q = <T extends Element>(s: string) => this.root.querySelector(s) as T;
    this.els = {
      drop: q(".drop"), preview: q("img"), prompt: q(".prompt"), file: q(".file"), camera: q(".camera"),
      results: q("ol"), status: q(".busy"), error: q(".error"), live: q(".sr"), meta: q(".meta"),
    };
    const { drop, file, camera } = this.els;
    q<HTMLButtonElement>(".pick").addEventListener("click", (e) => { e.stopPropagation(); file.click(); });
    const photo = q<HTMLButtonElement>(".photo");
    // A camera button only where it means something (touch devices); desktops get the file picker.
    photo.hidden = !(typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches);
    photo.addEventListener("click", (e) => { e.stopPropagation(); camera.click(); });
    drop.addEventListener("click", () => file.click());
    drop.addEventListener("keydown", (e) => {
      if (e.target === drop && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); file.click(); }
    });
    for (const input of [file, camera]) {
      input.addEventListener("change", () => { if (input.files?.[0]) void this.classify(input.files[0]); input.value = ""; });
    }
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const f = e.dataTransfer?.files[0];
      if (f) void this.classify(f);
    });
    this.addEventListener("paste", (e) => this.onPaste(e as ClipboardEvent));
  }

  connectedCallback(): void {
    // Paste anywhere on the page reaches the widget unless the visitor is typing somewhere else.
    document.addEventListener("paste", this.onDocumentPaste);
    void this.showModel();
  }

  disconnectedCallback(): void {
    document.removeEventListener("paste", this.onDocumentPaste);
  }

  attributeChangedCallback(): void {
    this.info = null;
    if (this.isConnected) void this.showModel();
  }

  get endpoint(): string {
    return (this.getAttribute("endpoint") ?? location.origin).replace(/\/+$/, "");
  }

  private onDocumentPaste = (e: ClipboardEvent): void => {
    const t = e.target as HTMLElement | null;
    if (t && t !== document.body && t.closest?.("input, textarea, [contenteditable]")) return;
    this.onPaste(e);
  };

  private onPaste(e: ClipboardEvent): void {
    const item = [...(e.clipboardData?.items ?? [])].find((i) => i.kind === "file" && i.type.startsWith("image/"));
    const f = item?.getAsFile();
    if (f) { e.preventDefault(); e.stopPropagation(); void this.classify(f); }
  }

  private modelInfo(): Promise<ModelInfo> {
    if (!this.info) {
      this.info = fetchModelInfo(this.endpoint, this.getAttribute("model"));
      this.info.catch(() => { this.info = null; });
    }
    return this.info;
  }

  private async showModel(): Promise<void> {
    try {
      const info = await this.modelInfo();
      this.els.meta.textContent = `${info.name} ${info.version}${info.preview ? " (preview)" : ""} · ${info.labels.length} classes · ${this.mode} mode`;
    } catch { /* shown when the visitor classifies */ }
  }

  get mode(): "remote" | "local" {
    return this.getAttribute("mode") === "local" ? "local" : "remote";
  }

  /** Classifies one image file; also callable by the host page. */
  async classify(file: File | Blob): Promise<Result | null> {
    const { status, error, results, live, preview, prompt } = this.els;
    error.hidden = true;
    results.replaceChildren();
    try {
      const max = parseSize(this.getAttribute("max-size"));
      if (file.size > max) throw new WidgetError("too-large", `This image is ${formatBytes(file.size)}; the limit is ${formatBytes(max)}. Try a smaller photo.`);
      if (file.type && !file.type.startsWith("image/")) throw new WidgetError("not-an-image", "This file is not an image. Try a JPEG, PNG or WebP photo.");
      if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
      this.previewUrl = URL.createObjectURL(file);
      preview.src = this.previewUrl;
      preview.alt = "The image being classified";
      preview.hidden = false;
      prompt.hidden = true;
      status.hidden = false;
      status.textContent = this.mode === "local" ? "Classifying on this device…" : "Classifying…";
      const top = Math.max(1, Number.parseInt(this.getAttribute("top") ?? "3", 10) || 3);
      const info = await this.modelInfo();
      const result = this.mode === "local"
        ? await classifyLocal(this.endpoint, file, info, top)
        : await classifyRemote(this.endpoint, file, info, top, this.getAttribute("api-key") ?? undefined, this.getAttribute("model"));
      status.hidden = true;
      this.render(result);
      const best = result.predictions[0];
      live.textContent = `Top result: ${best.label}, ${Math.round(best.score * 100)} percent.`;
      this.dispatchEvent(new CustomEvent("classify", { detail: result, bubbles: true, composed: true }));
      return result;
    } catch (e) {
      status.hidden = true;
      const err = e instanceof WidgetError ? e : new WidgetError("server", `Something went wrong: ${(e as Error).message}`);
      error.textContent = err.message;
      error.hidden = false;
      this.dispatchEvent(new CustomEvent("error", { detail: { kind: err.kind, message: err.message }, bubbles: true, composed: true }));
      return null;
    }
  }

  private render(result: Result): void {
    const { results, meta } = this.els;
    results.replaceChildren(...result.predictions.map((p) => {
      const li = document.createElement("li");
      li.setAttribute("part", "result");
      const pct = `${(p.score * 100).toFixed(1)} %`;
      li.innerHTML = `<span class="label"></span><span class="track" part="track"><span class="bar" part="bar"></span></span><span class="score"></span>`;
      li.querySelector(".label")!.textContent = p.label;
      (li.querySelector(".bar") as HTMLElement).style.width = `${Math.max(0.5, p.score * 100)}%`;
      li.querySelector(".score")!.textContent = pct;
      li.setAttribute("aria-label", `${p.label}: ${pct}`);
      return li;
    }));
    meta.textContent = `${result.model.name} ${result.model.version} · ${result.mode === "local" ? "on this device" : "on the edge"} · ${Math.round(result.ms)} ms`;
  }
}

if (typeof customElements !== "undefined" && !customElements.get("edge-classifier")) {
  customElements.define("edge-classifier", EdgeClassifier);
}
