// Runs the project's own wrangler (node_modules/.bin) with telemetry, the network check for
// Cloudflare's edge metadata and the banner switched off, so local commands work offline.

import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const ROOT = path.join(import.meta.dirname, "../..");
export const WRANGLER = path.join(ROOT, "node_modules/.bin/wrangler");
/** Where `npm start`, `edge-cnn serve` and `edge-cnn publish --local` keep local R2 (and other) state. */
export const DEFAULT_STATE = path.join(ROOT, ".wrangler/state");

export const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

/** A wrangler command that failed, with what it printed: one line for the CLI, no stack. */
export class WranglerError extends Error {
  override name = "WranglerError";
}

export interface Captured {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs wrangler to completion, capturing its output (stdin from `input`). */
export function runWrangler(args: string[], input?: Uint8Array): Promise<Captured> {
  return new Promise((resolve, reject) => {
    const child = spawn(WRANGLER, args, { cwd: ROOT, env: { ...process.env, ...WRANGLER_ENV, CI: "1" }, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => { err += d.toString(); });
    child.on("error", (e) => reject(new WranglerError(`cannot run wrangler (${WRANGLER}): ${e.message}. Run npm install.`)));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(input ?? null);
  });
}

/**
 * Starts a long-running wrangler (dev) in its own process group with its output passed through, so
 * stopWrangler can end it and the workerd processes it starts, and Ctrl-C here reaches all of them.
 */
export function startWrangler(args: string[]): ChildProcess {
  return spawn(WRANGLER, args, { cwd: ROOT, env: { ...process.env, ...WRANGLER_ENV }, stdio: ["ignore", "inherit", "inherit"], detached: true });
}

export function stopWrangler(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** The last meaningful line wrangler printed on failure (its ✘ [ERROR] line, without colours). */
export function wranglerMessage(stderr: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  const error = /\[ERROR\]\s*(.+)/.exec(plain);
  return (error?.[1] ?? plain.trim().split("\n").filter(Boolean).pop() ?? "no output").trim();
}
