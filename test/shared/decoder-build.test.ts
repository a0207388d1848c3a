// The committed shared/decode/jpeg.wasm and webp.wasm must be exactly what their C sources build to
// (npm run build:decoders), so the decoders every runtime runs can never drift from the source in
// the repository. The rebuild needs Debian's clang 14 + wasi-libc; .ci/run installs them, so CI always
// compares. Elsewhere, without the toolchain, only the rebuild is skipped (said so in the output).

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildDecoderWasm, decoderToolchain, JPEG_WASM_OUTPUT, ROOT, WEBP_WASM_OUTPUT } from "../../trainer/build-decoders.ts";

const clang = decoderToolchain();

describe("jpeg.wasm and webp.wasm", () => {
  for (const [name, output] of [["jpeg", JPEG_WASM_OUTPUT], ["webp", WEBP_WASM_OUTPUT]] as const) {
    it.skipIf(!clang)(`${name}.wasm is byte-identical to a fresh build of shared/decode (run npm run build:decoders after editing it)`, () => {
      const committed = readFileSync(path.join(ROOT, output));
      const built = buildDecoderWasm(name, clang);
      expect(committed.length, `size of the committed ${name}.wasm vs a fresh build`).toBe(built.length);
      expect(Buffer.compare(committed, built), `the committed ${name}.wasm differs from a fresh build`).toBe(0);
    }, 120_000);
  }

  it("import only what shared/decode/jpeg.ts and webp.ts provide, and export their C APIs", () => {
    const module = new WebAssembly.Module(readFileSync(path.join(ROOT, JPEG_WASM_OUTPUT)));
    expect(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).sort()).toEqual([
      "env.jd_error", "wasi_snapshot_preview1.fd_close", "wasi_snapshot_preview1.fd_seek",
      "wasi_snapshot_preview1.fd_write", "wasi_snapshot_preview1.proc_exit",
    ]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name).sort()).toEqual(["jd_decode", "jd_free", "jd_malloc", "memory"]);
    const webp = new WebAssembly.Module(readFileSync(path.join(ROOT, WEBP_WASM_OUTPUT)));
    expect(WebAssembly.Module.imports(webp).map((i) => `${i.module}.${i.name}`).sort()).toEqual([
      "wasi_snapshot_preview1.fd_close", "wasi_snapshot_preview1.fd_seek", "wasi_snapshot_preview1.fd_write",
    ]);
    expect(WebAssembly.Module.exports(webp).map((e) => e.name).sort()).toEqual(["memory", "wd_decode", "wd_free", "wd_malloc"]);
  });
});

if (!clang) console.warn("decoder-build.test.ts: clang 14 + wasi-libc not installed, the rebuild comparison is skipped (CI installs them)");
