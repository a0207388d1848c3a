// Command-line flags: one declarative table per command gives parsing (node:util parseArgs, strict),
// validation of numbers and choices, defaults, and the --help text, so they never disagree.

import { parseArgs } from "node:util";

export type FlagType = "string" | "boolean" | "int" | "number";

export interface FlagDef {
  type: FlagType;
  help: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Placeholder shown in help, e.g. "DIR". */
  arg?: string;
  short?: string;
  /** A string flag that may be given more than once: its value is then a string[]. */
  multiple?: boolean;
}

export type FlagTable = Record<string, FlagDef>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagTable;
  /** Extra help text (examples). */
  details?: string;
}

/** A mistake in how the command was called: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export type FlagValues = Record<string, string | string[] | number | boolean | undefined>;

export function parseCommand(cmd: CommandSpec, argv: string[]): { values: FlagValues; positionals: string[]; help: boolean } {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { help: { type: "boolean", short: "h" } };
  for (const [name, def] of Object.entries(cmd.flags)) {
    options[name] = { type: def.type === "boolean" ? "boolean" : "string", ...(def.short ? { short: def.short } : {}), ...(def.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "").replace(/^Unknown option '([^']+)'.*$/s, "unknown option $1");
    throw new UsageError(`edge-cnn ${cmd.name}: ${msg}`);
  }
  const raw = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (raw.help) return { values: {}, positionals: parsed.positionals, help: true };
  const values: FlagValues = {};
  for (const [name, def] of Object.entries(cmd.flags)) {
    const v = raw[name];
    if (v === undefined) { values[name] = def.default; continue; }
    if (Array.isArray(v)) { values[name] = v; continue; }
    if (def.type === "boolean" || def.type === "string") {
      if (def.choices && !def.choices.includes(v as string)) {
        throw new UsageError(`edge-cnn ${cmd.name}: --${name} must be one of ${def.choices.join(", ")}, got "${v}"`);
      }
      values[name] = v;
      continue;
    }
    const text = String(v).trim();
    const num = Number(text);
    if (text === "" || !Number.isFinite(num) || (def.type === "int" && !Number.isInteger(num))) {
      throw new UsageError(`edge-cnn ${cmd.name}: --${name} must be ${def.type === "int" ? "an integer" : "a number"}, got "${v}"`);
    }
    if (def.min !== undefined && num < def.min) throw new UsageError(`edge-cnn ${cmd.name}: --${name} must be at least ${def.min}, got ${num}`);
    if (def.max !== undefined && num > def.max) throw new UsageError(`edge-cnn ${cmd.name}: --${name} must be at most ${def.max}, got ${num}`);
    values[name] = num;
  }
  return { values, positionals: parsed.positionals, help: false };
}

export function requireFlag(cmd: CommandSpec, values: FlagValues, name: string): string {
  const v = values[name];
  if (v === undefined || v === "") throw new UsageError(`edge-cnn ${cmd.name}: missing --${name} ${cmd.flags[name]?.arg ?? ""}`.trimEnd() + `. ${cmd.flags[name]?.help ?? ""}`);
  return String(v);
}

export function formatHelp(cmd: CommandSpec): string {
  const rows = Object.entries(cmd.flags).map(([name, def]) => {
    const left = `  --${name}${def.type === "boolean" ? "" : ` ${def.arg ?? (def.choices ? def.choices.join("|") : def.type === "string" ? "VALUE" : "N")}`}`;
    const dflt = def.default !== undefined && def.default !== false ? ` (default: ${def.default})` : "";
    return [left, def.help + dflt];
  });
  rows.push(["  --help, -h", "show this help"]);
  const width = Math.min(34, Math.max(...rows.map((r) => r[0].length)) + 2);
  const lines = rows.map(([l, r]) => (l.length >= width ? `${l}\n${" ".repeat(width)}${r}` : l.padEnd(width) + r));
  return [`edge-cnn ${cmd.name}: ${cmd.summary}`, "", `Usage: ${cmd.usage}`, "", "Options:", ...lines, ...(cmd.details ? ["", cmd.details] : []), ""].join("\n");
}
