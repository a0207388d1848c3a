// One instance of @jsquash/png's decoder (Squoosh's Rust png crate, built with wasm-bindgen), with
// just the JavaScript glue that decoding needs, kept per instance. jsquash's own glue keeps a single
// instance per JavaScript realm that cannot be replaced, and a failed decode (a Rust panic thrown
// through wasm) leaves it with a leaked input buffer and an unrestored stack pointer: after a few
// hundred corrupt PNGs it fails on every PNG. With this glue a failed instance is simply dropped.

export interface DecodedRgba {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

interface PngExports {
  memory: WebAssembly.Memory;
  decode(ptr: number, len: number): number;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
}

export class PngWasm {
  private readonly exports: PngExports;
  // wasm-bindgen's table of JS values handed to Rust: index -> value, free slots chained through
  // `next`. The first 132 slots are reserved (128 unused, then undefined, null, true, false), as in
  // the generated glue.
  private readonly heap: unknown[] = [...new Array(128).fill(undefined), undefined, null, true, false];
  private next = this.heap.length;

  constructor(module: WebAssembly.Module) {
    const wbg: Record<string, (...args: number[]) => unknown> = {};
    // Import names carry a hash that changes between builds; match them by their stable prefix.
    for (const { name } of WebAssembly.Module.imports(module)) wbg[name] = this.importFor(name);
    this.exports = new WebAssembly.Instance(module, { wbg } as WebAssembly.Imports).exports as unknown as PngExports;
  }

  /** Decodes a PNG to 8-bit RGBA. Throws on damaged data; the instance must not be used after that. */
  decode(bytes: Uint8Array): DecodedRgba {
    const ptr = this.exports.__wbindgen_malloc(bytes.length, 1);
    new Uint8Array(this.exports.memory.buffer).set(bytes, ptr);
    return this.take(this.exports.decode(ptr, bytes.length)) as DecodedRgba;
  }

  private importFor(name: string): (...args: number[]) => unknown {
    const prefix = name.replace(/_[0-9a-f]{16}$/, "");
    switch (prefix) {
      case "__wbindgen_memory": return () => this.add(this.exports.memory);
      case "__wbg_buffer": return (i) => this.add((this.heap[i] as WebAssembly.Memory).buffer);
      case "__wbg_newwithbyteoffsetandlength": return (i, offset, length) => this.add(new Uint16Array(this.heap[i] as ArrayBuffer, offset >>> 0, length >>> 0));
      case "__wbindgen_object_drop_ref": return (i) => this.take(i);
      case "__wbg_newwithownedu8clampedarrayandsh": return (ptr, len, width, height) => {
        // Rust hands over its pixel buffer: copy it out, free it, wrap it as ImageData-like RGBA.
        const data = new Uint8ClampedArray(this.exports.memory.buffer, ptr >>> 0, len >>> 0).slice();
        this.exports.__wbindgen_free(ptr, len, 1);
        return this.add({ width: width >>> 0, height: height >>> 0, data });
      };
      case "__wbindgen_throw": return (ptr, len) => {
        throw new Error(new TextDecoder().decode(new Uint8Array(this.exports.memory.buffer, ptr >>> 0, len >>> 0)));
      };
      default: throw new Error(`@jsquash/png's Wasm needs an import this glue does not know (${name}); update edge/png-wasm.ts for the new version`);
    }
  }

  private add(value: unknown): number {
    if (this.next === this.heap.length) this.heap.push(this.heap.length + 1);
    const index = this.next;
    this.next = this.heap[index] as number;
    this.heap[index] = value;
    return index;
  }

  private take(index: number): unknown {
    const value = this.heap[index];
    if (index >= 132) {
      this.heap[index] = this.next;
      this.next = index;
    }
    return value;
  }
}
