// The downloader against a local HTTP server: full download with md5, resume after a dropped connection
// (Range / 206), a server that ignores Range (200: restart), a bad checksum, redirects, HTTP errors, and
// an unreachable or silent server.

import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DownloadError, downloadFile } from "../../../trainer/dataset/download.ts";
import { removeTempDirs, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

const BODY = randomBytes(300_000);
const MD5 = createHash("md5").update(BODY).digest("hex");

/** How the server behaves for the next requests; reset before every test. */
let mode: { dropFirst?: boolean; stallFirst?: boolean; ignoreRange?: boolean; silent?: boolean } = {};
let requests: Array<{ url: string; range?: string }> = [];
let server: http.Server, base: string, dir: string;

beforeAll(async () => {
  dir = await tempDir("download");
  server = http.createServer((req, res) => {
    requests.push({ url: req.url!, range: req.headers.range });
    if (mode.silent) return; // never answers: the client must time out
    if (req.url === "/moved") { res.writeHead(302, { location: "/cifar.tar.gz" }); res.end(); return; }
    if (req.url !== "/cifar.tar.gz") { res.writeHead(404); res.end("not here"); return; }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    let start = 0;
    if (m && !mode.ignoreRange) {
      start = Number(m[1]);
      if (start >= BODY.length) { res.writeHead(416, { "content-range": `bytes */${BODY.length}` }); res.end(); return; }
      res.writeHead(206, { "content-length": BODY.length - start, "content-range": `bytes ${start}-${BODY.length - 1}/${BODY.length}` });
    } else {
      res.writeHead(200, { "content-length": BODY.length });
    }
    const rest = BODY.subarray(start);
    if (mode.dropFirst) {
      mode.dropFirst = false;
      // Send 100,000 bytes, let them reach the client, then cut the connection mid-body.
      res.write(rest.subarray(0, 100_000), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    if (mode.stallFirst) {
      mode.stallFirst = false;
      res.write(rest.subarray(0, 100_000)); // then nothing more: the client's idle timeout must fire
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  mode = {};
  requests = [];
});

async function failure(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (e) => e);
  expect(e).toBeInstanceOf(DownloadError);
  return (e as Error).message;
}

const exists = (f: string) => stat(f).then(() => true, () => false);

describe("downloadFile", () => {
  it("downloads, verifies md5, reports progress and renames into place", async () => {
    const dest = path.join(dir, "full", "cifar.tar.gz");
    const progress: Array<[number, number | undefined]> = [];
    const r = await downloadFile(`${base}/cifar.tar.gz`, dest, { md5: MD5, onProgress: (b, t) => progress.push([b, t]) });
    expect(r).toEqual({ path: dest, bytes: BODY.length, alreadyPresent: false, resumed: false });
    expect((await readFile(dest)).equals(BODY)).toBe(true);
    expect(await exists(`${dest}.part`)).toBe(false);
    expect(progress.at(-1)).toEqual([BODY.length, BODY.length]);
    expect(progress.every(([b], i) => i === 0 || b > progress[i - 1][0])).toBe(true);

    // Run again: the verified file is there, nothing is fetched.
    const again = await downloadFile(`${base}/cifar.tar.gz`, dest, { md5: MD5 });
    expect(again.alreadyPresent).toBe(true);
    expect(requests.length).toBe(1);
  });

  it("keeps the partial file when the connection drops, and resumes it with a Range request", async () => {
    const dest = path.join(dir, "resume", "cifar.tar.gz");
    mode.dropFirst = true;
    const msg = await failure(downloadFile(`${base}/cifar.tar.gz`, dest, { md5: MD5 }));
    expect(msg).toMatch(/^connection dropped after (\d+) of 300000 bytes \(ECONNRESET\)\. /);
    expect(msg).toContain(`The partial download is kept in ${dest}.part: re-run the same command to resume.`);
    const partSize = (await stat(`${dest}.part`)).size;
    expect(partSize).toBe(Number(/after (\d+)/.exec(msg)![1]));
    expect(partSize).toBe(100_000);

    const r = await downloadFile(`${base}/cifar.tar.gz`, dest, { md5: MD5 });
    expect(r.resumed).toBe(true);
    expect(requests.map((q) => q.range)).toEqual([undefined, "bytes=100000-"]);
    expect((await readFile(dest)).equals(BODY)).toBe(true);
    expect(await exists(`${dest}.part`)).toBe(false);
  });

  it("a transfer that stalls times out and keeps the partial file for a resume", async () => {
    const dest = path.join(dir, "stall", "cifar.tar.gz");
    mode.stallFirst = true;
    expect(await failure(downloadFile(`${base}/cifar.tar.gz`, dest, { md5: MD5, timeoutMs: 300 }))).toBe(
      `connection dropped after 100000 of 300000 bytes (ETIMEDOUT). The partial download is kept in ${dest}.part: re-run the same command to resume.`);
    await downloadFile(`${base}/cifar.tar.gz`, dest, { md5: MD5 });
    expect(requests.map((q) => q.range)).toEqual([undefined, "bytes=100000-"]);
    expect((await readFile(dest)).equals(BODY)).toBe(true);
  });

  it("restarts from zero when the server ignores the Range (200)", async () => {
    const dest = path.join(dir, "norange", "cifar.tar.gz");
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(`${dest}.part`, BODY.subarray(0, 1234));
    mode.ignoreRange = true;
    await downloadFile(`${base}/cifar.tar.gz`, dest, { md5: MD5 });
    expect(requests[0].range).toBe("bytes=1234-");
    expect((await readFile(dest)).equals(BODY)).toBe(true);
  });

  it("verifies a part that is already complete (416) instead of downloading again", async () => {
    const dest = path.join(dir, "complete", "cifar.tar.gz");
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(`${dest}.part`, BODY);
    const r = await downloadFile(`${base}/cifar.tar.gz`, dest, { md5: MD5 });
    expect(r.resumed).toBe(true);
    expect((await readFile(dest)).equals(BODY)).toBe(true);
  });

  it("a bad checksum deletes the partial file and says so", async () => {
    const dest = path.join(dir, "badsum", "cifar.tar.gz");
    const wrong = "0".repeat(32);
    expect(await failure(downloadFile(`${base}/cifar.tar.gz`, dest, { md5: wrong }))).toBe(
      `checksum mismatch for ${dest}: expected md5 ${wrong}, got ${MD5}. The partial download was deleted; re-run the same command to download it again.`);
    expect(await exists(`${dest}.part`)).toBe(false);
    expect(await exists(dest)).toBe(false);
  });

  it("follows redirects", async () => {
    const dest = path.join(dir, "redirect", "cifar.tar.gz");
    await downloadFile(`${base}/moved`, dest, { md5: MD5 });
    expect(requests.map((q) => q.url)).toEqual(["/moved", "/cifar.tar.gz"]);
    expect((await readFile(dest)).equals(BODY)).toBe(true);
  });

  it("an HTTP error status", async () => {
    const dest = path.join(dir, "404", "x.tar.gz");
    expect(await failure(downloadFile(`${base}/missing.tar.gz`, dest))).toBe(`download failed: ${base}/missing.tar.gz answered HTTP 404 Not Found`);
    expect(await exists(`${dest}.part`)).toBe(false);
  });

  it("an unreachable server (connection refused)", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const url = `http://127.0.0.1:${port}/cifar.tar.gz`;
    expect(await failure(downloadFile(url, path.join(dir, "refused", "x.tar.gz")))).toBe(
      `network unreachable: could not reach 127.0.0.1:${port} (ECONNREFUSED). Download ${url} elsewhere and pass --data PATH, or re-run the same command when the network is back.`);
  });

  it("a server that never answers times out as unreachable", async () => {
    mode.silent = true;
    const url = `${base}/cifar.tar.gz`;
    expect(await failure(downloadFile(url, path.join(dir, "silent", "x.tar.gz"), { timeoutMs: 200 }))).toBe(
      `network unreachable: could not reach ${new URL(base).host} (ETIMEDOUT). Download ${url} elsewhere and pass --data PATH, or re-run the same command when the network is back.`);
  });
});
