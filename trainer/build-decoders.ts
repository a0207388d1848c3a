// `npm run build:decoders`: compiles the image decoders that the trainer, the Worker and the widget
// all run (shared/decode) from their C sources to Wasm, with Debian's clang 14 + wasi-libc
// (`apt-get install clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32`): libjpeg-turbo 2.1.5.1
// behind shared/decode/jpeg/decoder.c -> shared/decode/jpeg.wasm, and libwebp 1.6.0 behind
// shared/decode/webp/decoder.c -> shared/decode/webp.wasm (sources and patches: shared/decode/README.md).
// The build is deterministic, and test/shared/decoder-build.test.ts rebuilds both and requires the
// committed files to be byte-identical.
//
//   npm run build:decoders             writes the .wasm files (and reports their sizes)
//   npm run build:decoders -- --check  exits 1 if a committed .wasm differs from a fresh build

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const JPEG_WASM_OUTPUT = "shared/decode/jpeg.wasm";
export const WEBP_WASM_OUTPUT = "shared/decode/webp.wasm";

/** libjpeg-turbo's decompression side (no SIMD: jsimd_none.c answers "no SIMD" to every query). */
const LIBJPEG_SOURCES = [
  "jaricom", "jcomapi", "jdapimin", "jdapistd", "jdarith", "jdatasrc", "jdcoefct", "jdcolor", "jddctmgr",
  "jdhuff", "jdinput", "jdmainct", "jdmarker", "jdmaster", "jdmerge", "jdphuff", "jdpostct", "jdsample",
  "jerror", "jidctflt", "jidctfst", "jidctint", "jidctred", "jmemmgr", "jmemnobs", "jquant1", "jquant2",
  "jsimd_none", "jutils",
].map((name) => `shared/decode/libjpeg-turbo/${name}.c`);

/** libwebp's decoding side: the decoder, the plain-C DSP functions (no SSE/NEON on Wasm), utilities. */
const LIBWEBP_SOURCES = ["dec", "dsp", "utils"].flatMap((dir) =>
  readdirSync(`${ROOT}/shared/decode/libwebp/src/${dir}`).filter((f) => f.endsWith(".c")).sort().map((f) => `shared/decode/libwebp/src/${dir}/${f}`));

/** Wasm MVP + bulk memory (no SIMD, so it runs wherever Wasm does); no debug info, so no paths in the output. */
export const CLANG_FLAGS = [
  "--target=wasm32-wasi", "--sysroot=/usr", "-O3", "-mbulk-memory", "-w",
  "-nostartfiles", "-Wl,--no-entry", "-Wl,--strip-all",
  "-Wl,--max-memory=134217728", // 128 MiB: malloc fails cleanly (libjpeg's "Insufficient memory") beyond it
];

/** What each decoder is built from. */
export const DECODERS = {
  jpeg: { output: JPEG_WASM_OUTPUT, args: ["-Ishared/decode/jpeg", "-Ishared/decode/libjpeg-turbo", "shared/decode/jpeg/decoder.c", ...LIBJPEG_SOURCES] },
  webp: { output: WEBP_WASM_OUTPUT, args: ["-Ishared/decode/libwebp", "shared/decode/webp/decoder.c", ...LIBWEBP_SOURCES] },
} as const;

/** The clang that builds the decoders, or null where Debian's clang 14 + wasi-libc are not installed. */
export function decoderToolchain(): string | null {
  for (const clang of ["/usr/bin/clang-14", "/usr/lib/llvm-14/bin/clang"]) {
    if (existsSync(clang) && existsSync("/usr/lib/wasm32-wasi/libc.a") && existsSync("/usr/bin/wasm-ld-14")) return clang;
  }
  return null;
}

/** Compiles one decoder from source and returns the module bytes. */
export function buildDecoderWasm(name: keyof typeof DECODERS, clang = decoderToolchain()): Uint8Array {
  if (!clang) throw new Error("clang 14 with wasi-libc is not installed: apt-get install clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32");
  const dir = mkdtempSync(join(tmpdir(), "edge-cnn-decoders-"));
  try {
    const out = join(dir, `${name}.wasm`);
    // A fixed PATH: clang runs any wasm-opt it finds on PATH (npm puts binaryen's there), which would
    // make the output depend on how the build was started.
    execFileSync(clang, [...CLANG_FLAGS, "-o", out, ...DECODERS[name].args], {
      cwd: ROOT, env: { PATH: "/usr/bin:/bin" }, stdio: ["ignore", "ignore", "pipe"],
    });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  let stale = false;
  for (const name of Object.keys(DECODERS) as Array<keyof typeof DECODERS>) {
    const { output } = DECODERS[name];
    const wasm = buildDecoderWasm(name), target = resolve(ROOT, output);
    if (process.argv.includes("--check")) {
      const committed = existsSync(target) ? new Uint8Array(readFileSync(target)) : new Uint8Array(0);
      const same = committed.length === wasm.length && committed.every((b, i) => b === wasm[i]);
      console.log(same ? `${output} matches its source (${wasm.length} bytes)` : `${output} is stale: run npm run build:decoders`);
      stale ||= !same;
    } else {
      writeFileSync(target, wasm);
      console.log(`wrote ${output} (${wasm.length} bytes)`);
    }
  }
  if (stale) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
