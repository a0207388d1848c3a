// Number, time and JSON formatting shared by index.html and metrics.json.

/** "1 h 02 min", "5 min 12 s", "42.3 s"; "–" when unknown. */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min ${String(sec).padStart(2, "0")} s`;
}

/** Fixed decimals, "–" for NaN/undefined. */
export function num(v: number | undefined, decimals = 4): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(decimals);
}

function isPrimitive(v: unknown): boolean {
  return v === null || ["number", "string", "boolean"].includes(typeof v);
}

/**
 * JSON with two-space indentation where arrays of primitives and small flat objects stay on one line
 * (a step of the loss curve, a confusion row), so long runs stay readable and compact. NaN and
 * infinities become null and undefined fields are left out, as JSON.stringify does.
 */
export function prettyJson(value: unknown, indent = ""): string {
  if (value === undefined || typeof value === "function") return "null";
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (ArrayBuffer.isView(value)) return prettyJson(Array.from(value as unknown as ArrayLike<number>), indent);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every(isPrimitive)) return `[${value.map((v) => JSON.stringify(v) ?? "null").join(", ")}]`;
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== "function");
  if (entries.length === 0) return "{}";
  if (entries.length <= 8 && entries.every(([, v]) => isPrimitive(v))) {
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(", ")}}`;
  }
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(",\n")}\n${indent}}`;
}
