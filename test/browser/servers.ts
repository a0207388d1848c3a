// What the browser tests run against: `wrangler dev` (the real Worker with the shipped model, local
// mode, no network) and a second static server on another origin that embeds the widget, as a page
// author's site would.

import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** `wrangler dev` with the shipped model (as `npm start`), or `edge-cnn serve` with these model files. */
export async function startWorker(port: number, models: string[] = []): Promise<{ url: string; stop: () => void }> {
  const command = models.length
    ? ["node", ["trainer/bin/edge-cnn.js", "serve", ...models.flatMap((m) => ["--model", m]), "--port", String(port)]] as const
    : ["npx", ["wrangler", "dev", "--local", "--ip", "127.0.0.1", "--port", String(port)]] as const;
  const child: ChildProcess = spawn(command[0], [...command[1]], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", CI: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { process.kill(-child.pid!); throw new Error(`wrangler dev did not answer /health in 90 s:\n${log}`); }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { url, stop: () => { try { process.kill(-child.pid!, "SIGTERM"); } catch { /* gone */ } } };
}

/** A page on another origin: the two lines from the demo page, plus a hook to read the events. */
export async function startHostPage(workerUrl: string, attrs = ""): Promise<{ url: string; server: Server }> {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>host</title>
<script type="module" src="${workerUrl}/widget.js"></script></head>
<body><h1>A page author's site</h1>
<edge-classifier endpoint="${workerUrl}" ${attrs}></edge-classifier>
<script>
  window.events = [];
  document.addEventListener("classify", (e) => window.events.push({ type: "classify", detail: e.detail }));
  document.addEventListener("error", (e) => e.detail && window.events.push({ type: "error", detail: e.detail }), true);
</script></body></html>`;
  const server = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
