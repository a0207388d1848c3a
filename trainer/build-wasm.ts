// `npm run build:wasm`: compiles the AssemblyScript kernels (shared/kernels/wasm/assembly/kernels.ts)
// to shared/kernels/wasm/kernels.wasm with the pinned assemblyscript devDependency. The output is
// deterministic, and test/shared/wasm-build.test.ts rebuilds it and requires the committed file to
// be byte-identical, so the binary can never drift from its source.
//
//   npm run build:wasm             writes the .wasm (and reports its size)
//   npm run build:wasm -- --check  exits 1 if the committed .wasm differs from a fresh build
//   npm run build:wasm -- --wat F  also writes the text format to F (for reading the generated code)

import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const WASM_SOURCE = "shared/kernels/wasm/assembly/kernels.ts";
export const WASM_OUTPUT = "shared/kernels/wasm/kernels.wasm";

/**
 * Compiler flags. SIMD on; the stub runtime (no GC: the kernels allocate nothing managed); no
 * assertions and `abort` mapped to nothing, so the module has no imports at all.
 */
export const ASC_FLAGS = [
  "--optimizeLevel", "3", "--shrinkLevel", "0",
  "--runtime", "stub", "--noAssert", "--use", "abort=",
  "--enable", "simd",
];

/** Compiles the kernels from source and returns the module bytes (and the text format if asked). */
export async function buildWasm(opts: { wat?: boolean } = {}): Promise<{ wasm: Uint8Array; wat?: string }> {
  const out: { wasm?: Uint8Array; wat?: string } = {};
  const errors: string[] = [];
  const stream = () => {
    const chunks: string[] = [];
    return { write(s: string | Uint8Array) { chunks.push(typeof s === "string" ? s : new TextDecoder().decode(s)); }, toString: () => chunks.join("") };
  };
  const stderr = stream();
  const argv = [WASM_SOURCE, ...ASC_FLAGS, "--outFile", "kernels.wasm", ...(opts.wat ? ["--textFile", "kernels.wat"] : [])];
  const { error } = await asc.main(argv, {
    stdout: stream(),
    stderr,
    readFile: async (name, baseDir) => {
      try {
        return await readFile(resolve(ROOT, baseDir, name), "utf8");
      } catch {
        return null;
      }
    },
    writeFile: (name, contents) => {
      if (name.endsWith(".wasm")) out.wasm = contents as Uint8Array;
      else if (name.endsWith(".wat")) out.wat = String(contents);
      else errors.push(`unexpected output ${name}`);
    },
  });
  if (error || !out.wasm) throw new Error(`asc failed: ${error?.message ?? "no output"}\n${stderr}${errors.join("\n")}`);
  return { wasm: out.wasm, wat: out.wat };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const watIndex = args.indexOf("--wat");
  const { wasm, wat } = await buildWasm({ wat: watIndex >= 0 });
  const target = resolve(ROOT, WASM_OUTPUT);
  if (args.includes("--check")) {
    const committed = new Uint8Array(await readFile(target).catch(() => new Uint8Array(0)));
    const same = committed.length === wasm.length && committed.every((b, i) => b === wasm[i]);
    console.log(same ? `${WASM_OUTPUT} matches its source (${wasm.length} bytes)` : `${WASM_OUTPUT} is stale: run npm run build:wasm`);
    process.exitCode = same ? 0 : 1;
    return;
  }
  await writeFile(target, wasm);
  if (wat !== undefined) await writeFile(args[watIndex + 1], wat);
  console.log(`wrote ${WASM_OUTPUT} (${wasm.length} bytes) from ${WASM_SOURCE}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
