// The layout of a model store (an R2 bucket): immutable model files under versioned keys, and one small
// JSON pointer per name that says which version is live. The CLI (publish, rollback, models) writes it
// and the Worker reads it, so both use these names and this pointer check. Publishing uploads the file
// first and moves the pointer last, so a reader never sees a pointer to a file that is not there yet.

import type { JsonValue } from "./model-file.ts";

/** A model's name: what /v1/models/NAME and --name use. URL- and key-safe. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const POINTER_PREFIX = "pointers/";

/** The key of one version of a model: its bytes never change, so it can be cached forever. */
export function modelObjectKey(name: string, sha256: string): string {
  return `${modelObjectPrefix(name)}${sha256}.bin`;
}

/** The prefix of every version's key. */
export function modelObjectPrefix(name: string): string {
  return `models/${name}/`;
}

export function pointerKey(name: string): string {
  return `${POINTER_PREFIX}${name}.json`;
}

/** What the pointer records about each published version (so a listing needs no model download). */
export interface PublishedVersion {
  sha256: string;
  version: string;
  size: number;
  published_at: string;
  labels: string[];
  input: { channels: number; height: number; width: number };
  metrics: Record<string, JsonValue>;
}

export interface ModelPointer {
  format: 1;
  name: string;
  /** sha256 of the live version. */
  live: string;
  /** Every version ever published under this name, oldest first. */
  versions: PublishedVersion[];
  /** The versions that were live before `live`, most recent last: rollback pops from here. */
  history: string[];
  /** When the pointer was last written: a rewrite always changes its bytes, so its ETag (an MD5). */
  updated_at?: string;
}

export class PointerError extends Error {
  override name = "PointerError";
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Parses and checks a pointer's text; throws PointerError saying what is wrong. */
export function parsePointer(text: string, name: string): ModelPointer {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch {
    throw new PointerError(`the pointer ${pointerKey(name)} is not valid JSON (${text.length} bytes)`);
  }
  const o = p as Partial<ModelPointer>;
  if (!o || typeof o !== "object" || o.format !== 1 || o.name !== name || typeof o.live !== "string" || !SHA256.test(o.live)
    || !Array.isArray(o.versions) || !Array.isArray(o.history) || !o.history.every((h) => typeof h === "string" && SHA256.test(h))
    || !o.versions.every((v) => v && typeof v === "object" && typeof v.sha256 === "string" && SHA256.test(v.sha256))) {
    throw new PointerError(`the pointer ${pointerKey(name)} is not an edge-cnn model pointer (format 1 for "${name}")`);
  }
  if (!o.versions.some((v) => v.sha256 === o.live)) throw new PointerError(`the pointer ${pointerKey(name)} names a live version ${o.live.slice(0, 12)} that it does not list`);
  return o as ModelPointer;
}

/** The pointer after publishing `version` (a new or earlier one) as live. */
export function withPublished(pointer: ModelPointer | null, name: string, version: PublishedVersion): ModelPointer {
  if (!pointer) return { format: 1, name, live: version.sha256, versions: [version], history: [] };
  if (pointer.live === version.sha256) return pointer;
  const versions = pointer.versions.some((v) => v.sha256 === version.sha256) ? pointer.versions : [...pointer.versions, version];
  return { ...pointer, live: version.sha256, versions, history: [...pointer.history, pointer.live] };
}

/** The pointer after a rollback, or null when there is no earlier version to go back to. */
export function withRolledBack(pointer: ModelPointer): ModelPointer | null {
  if (pointer.history.length === 0) return null;
  const history = pointer.history.slice(0, -1);
  return { ...pointer, live: pointer.history[pointer.history.length - 1], history };
}
