// Downloads one file (e.g. cifar-10-binary.tar.gz) with resume and checksum: bytes stream into
// `dest.part`; a re-run resumes it with an HTTP Range request; the md5 is checked before the file is
// renamed into place, so `dest` only ever exists complete and verified.
//
// node:http/https rather than fetch: the error codes (ENOTFOUND, ECONNREFUSED, ...) arrive directly
// instead of wrapped in "fetch failed", an idle-socket timeout is one call, and the body pipes into the
// file with back-pressure. Redirects are followed by hand (a few at most).

import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";

export class DownloadError extends Error {
  override name = "DownloadError";
}

export interface DownloadOptions {
  /** Expected md5 (hex). Without it the file is not verified. */
  md5?: string;
  /** Called as bytes arrive; total is undefined when the server does not say. Bytes include a resumed part. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Give up when no byte arrives for this long, in ms. Default 30 s. */
  timeoutMs?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** True when `dest` already existed (and matched md5, when given): nothing was downloaded. */
  alreadyPresent: boolean;
  /** True when an earlier partial download was continued. */
  resumed: boolean;
}

/** Network failures that mean "could not reach the server", not "the transfer broke". */
const UNREACHABLE = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EHOSTDOWN"]);
const MAX_REDIRECTS = 5;

export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const existing = await sizeOf(dest);
  if (existing !== undefined && (!opts.md5 || (await md5File(dest)) === opts.md5.toLowerCase())) {
    return { path: dest, bytes: existing, alreadyPresent: true, resumed: false };
  }
  await mkdir(path.dirname(dest), { recursive: true });

  let offset = (await sizeOf(part)) ?? 0;
  const resumed = offset > 0;
  const res = await request(url, offset, opts.timeoutMs ?? 30_000);
  if (res.statusCode === 416 && offset > 0) {
    // Nothing left to send: the part should hold every byte (an earlier run stopped before verifying).
    res.resume();
    const m = /^bytes \*\/(\d+)/.exec(res.headers["content-range"] ?? "");
    if (m && Number(m[1]) !== offset) return restart(url, dest, opts);
  } else {
    let append = false, total: number | undefined;
    if (res.statusCode === 206) {
      // Only append if the server resumes exactly where the part ends; otherwise start over.
      const m = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(res.headers["content-range"] ?? "");
      append = !!m && Number(m[1]) === offset;
      total = m && m[2] !== "*" ? Number(m[2]) : undefined;
      if (!append) { res.destroy(); return restart(url, dest, opts); }
    } else if (res.statusCode === 200) {
      total = numberOr(res.headers["content-length"]); // 200 to a Range request: the server ignored it, restart
    } else {
      res.resume();
      throw new DownloadError(`download failed: ${url} answered HTTP ${res.statusCode} ${res.statusMessage ?? ""}`.trim());
    }
    if (!append) offset = 0;
    await receive(res, part, append, offset, total, opts);
  }

  if (opts.md5) {
    const got = await md5File(part);
    if (got !== opts.md5.toLowerCase()) {
      await rm(part, { force: true });
      throw new DownloadError(`checksum mismatch for ${dest}: expected md5 ${opts.md5}, got ${got}. The partial download was deleted; re-run the same command to download it again.`);
    }
  }
  await rename(part, dest);
  return { path: dest, bytes: (await sizeOf(dest)) ?? 0, alreadyPresent: false, resumed };
}

/** Drops an unusable partial download and starts from byte 0 (once: the part is gone afterwards). */
async function restart(url: string, dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  await rm(`${dest}.part`, { force: true });
  return downloadFile(url, dest, opts);
}

/** Streams the body into the part file; a broken transfer keeps what arrived so the next run resumes. */
async function receive(
  res: http.IncomingMessage, part: string, append: boolean, offset: number, total: number | undefined, opts: DownloadOptions,
): Promise<void> {
  let bytes = offset;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      opts.onProgress?.(bytes, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, count, createWriteStream(part, { flags: append ? "a" : "w" }));
  } catch (e) {
    throw dropped(part, bytes, total, e);
  }
  // A server that closes the connection cleanly but early gives no error: compare with what it promised.
  if (total !== undefined && bytes < total) throw dropped(part, bytes, total);
}

function dropped(part: string, bytes: number, total: number | undefined, e?: unknown): DownloadError {
  const why = e ? ` (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` : "";
  return new DownloadError(
    `connection dropped after ${bytes}${total !== undefined ? ` of ${total}` : ""} bytes${why}. ` +
    `The partial download is kept in ${part}: re-run the same command to resume.`);
}

/** GET with an optional Range, following redirects; resolves once the response headers arrive. */
function request(url: string, offset: number, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return reject(new DownloadError(`not a valid URL: ${url}`));
    }
    const lib = u.protocol === "https:" ? https : u.protocol === "http:" ? http : undefined;
    if (!lib) return reject(new DownloadError(`unsupported URL scheme ${u.protocol} in ${url}`));
    const headers: Record<string, string> = { "user-agent": "edge-cnn" };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    let response: http.IncomingMessage | undefined;
    const req = lib.get(u, { headers }, (res) => {
      response = res;
      const loc = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && loc) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new DownloadError(`download failed: more than ${MAX_REDIRECTS} redirects from ${url}`));
        return resolve(request(new URL(loc, u).href, offset, timeoutMs, redirects + 1));
      }
      resolve(res);
    });
    // Idle timeout for connect and body alike. Once the body flows, failing the response itself makes
    // receive() report the timeout (destroying the request would surface as a generic ECONNRESET).
    req.setTimeout(timeoutMs, () => {
      const err = Object.assign(new Error(`no data for ${timeoutMs} ms`), { code: "ETIMEDOUT" });
      if (response) response.destroy(err);
      else req.destroy(err);
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      // Fires before the response only; later failures surface on the body stream in receive().
      const code = e.code ?? "unknown error";
      if (UNREACHABLE.has(code)) {
        reject(new DownloadError(`network unreachable: could not reach ${u.host} (${code}). Download ${url} elsewhere and pass --data PATH, or re-run the same command when the network is back.`));
      } else {
        reject(new DownloadError(`download failed: ${url}: ${e.message}`));
      }
    });
  });
}

async function md5File(file: string): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function sizeOf(file: string): Promise<number | undefined> {
  const st = await stat(file).catch(() => undefined);
  return st?.isFile() ? st.size : undefined;
}

function numberOr(v: string | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) ? n : undefined;
}
