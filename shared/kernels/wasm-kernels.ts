// The Wasm SIMD kernels: the JS side of ./wasm/assembly/kernels.ts (built to ./wasm/kernels.wasm).
//
// Every runtime supplies the compiled module (workerd refuses to compile Wasm from bytes at run time,
// so there it is imported as a CompiledWasm module; Node reads the file; a browser fetches it), and
// `createWasmKernels` instantiates it synchronously. No node:* imports here: this file runs unchanged
// in Node, workerd and browsers.
//
// Memory: the layers keep their JS Float32Arrays. Each call copies its operands into the instance's
// linear memory, runs, and copies the results back. The calls are whole-batch layer ops, so each
// operand crosses once per layer and batch (O(size)) while the work is O(size * K); the im2col columns
// and packed panels never leave Wasm memory. Memory grows on demand and is reused by later calls.
// The exception is inference with frozen weights (Network.freeze -> freezeParams): those move into
// Wasm memory once, with the filters' prepared forms, so a one-image forward copies no weights.

import type { Param } from "../layers/layer.ts";
import type { RngState } from "../rng.ts";
import type { ConvShape, Kernels } from "./kernels.ts";
import { tsKernels } from "./ts-kernels.ts";

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  setTop(p: number): void;
  gemm(M: number, N: number, K: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, ldc: number, acc: number): void;
  im2col(x: number, C: number, H: number, W: number, k: number, s: number, pad: number, OH: number, OW: number, col: number): void;
  col2im(col: number, C: number, H: number, W: number, k: number, s: number, pad: number, OH: number, OW: number, dx: number): void;
  convPreparedBytes(C: number, F: number, k: number, s: number): number;
  convForward(x: number, w: number, b: number, y: number, n: number, C: number, H: number, W: number, F: number, k: number, s: number, pad: number, OH: number, OW: number, prepared: number, ready: number): void;
  convBackward(x: number, w: number, dy: number, dw: number, db: number, dx: number, n: number, C: number, H: number, W: number, F: number, k: number, s: number, pad: number, OH: number, OW: number): void;
  affineForward(x: number, w: number, b: number, y: number, n: number, I: number, O: number): void;
  affineBackward(x: number, w: number, dy: number, dw: number, db: number, dx: number, n: number, I: number, O: number): void;
  maxpoolForward(inp: number, out: number, argmax: number, planes: number, H: number, W: number, size: number, stride: number, OH: number, OW: number): void;
  maxpoolBackward(dout: number, argmax: number, dinp: number, outLen: number, inLen: number): void;
  reluForward(x: number, y: number, len: number): void;
  dropoutForward(x: number, y: number, mask: number, len: number, threshold: number, scale: number, state: number): void;
  multiply(a: number, b: number, out: number, len: number): void;
  reluBackward(y: number, dy: number, dx: number, len: number): void;
  batchnormStats(x: number, n: number, C: number, HW: number, mean: number, variance: number): void;
  batchnormApply(x: number, y: number, n: number, C: number, HW: number, mean: number, invstd: number, bias: number): void;
  batchnormBackward(x: number, dy: number, dx: number, dbias: number, n: number, C: number, HW: number, mean: number, invstd: number): void;
  geluForward(x: number, y: number, slope: number, len: number): void;
  geluForwardFast(x: number, y: number, len: number): void;
}

/**
 * The smallest module using a SIMD instruction (a function returning v128.const 0): where
 * `WebAssembly.validate` rejects it, there is no Wasm SIMD and the TS kernels must be used.
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code section: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // 16 zero bytes, end
]);

/** True where WebAssembly with SIMD (the 128-bit fixed-width proposal) is available. */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * The kernels to use given the compiled kernels module (or none): Wasm SIMD where it can run, else the
 * TS reference. `kernels.name` says which ("wasm-simd" or "ts").
 */
export function bestKernels(module: WebAssembly.Module | null | undefined): Kernels {
  if (!module || !wasmSimdSupported()) return tsKernels;
  try {
    return createWasmKernels(module);
  } catch {
    return tsKernels;
  }
}

/** A parameter moved into Wasm memory by freezeParams. */
interface Frozen {
  param: Param;
  ptr: number; // byte address of its values
  length: number;
  /** For conv filters: the prepared form (transformed or packed) and the geometry it was made for. */
  prepared: number;
  ready: boolean;
  key: number;
}

/** Kernels running in one fresh instance of the compiled kernels module (its own linear memory). */
export function createWasmKernels(module: WebAssembly.Module): Kernels {
  const ex = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
  const memory = ex.memory;
  const base = ex.heapBase();
  let f32 = new Float32Array(memory.buffer);
  let i32 = new Int32Array(memory.buffer);
  // Memory layout: [base, fixedTop) frozen parameters and their prepared forms (kept), then each
  // call's operands from fixedTop, then the Wasm side's workspace (both reused by the next call).
  let fixedTop = base;
  let cursor = base;
  // Frozen parameters, and every view ever handed out for them (a view made before the memory grew is
  // detached but still identifies its parameter: a layer may hold one during a call that grows memory).
  const frozen: Frozen[] = [];
  const frozenView = new WeakMap<Float32Array | Int32Array, Frozen>();

  const grow = (end: number): void => {
    const need = end - memory.buffer.byteLength;
    if (need > 0) memory.grow(Math.ceil(need / 65536));
    refresh();
  };
  /** New views after memory grew (growing detaches the old buffer), frozen parameters included. */
  const refresh = (): void => {
    if (f32.buffer === memory.buffer) return;
    f32 = new Float32Array(memory.buffer);
    i32 = new Int32Array(memory.buffer);
    for (const z of frozen) {
      const view = new Float32Array(memory.buffer, z.ptr, z.length);
      frozenView.set(view, z);
      z.param.data = view;
    }
  };
  /** Rounds a byte address up to a cache line (arithmetic, not `& ~63`: addresses may pass 2^31). */
  const align = (p: number): number => Math.ceil(p / 64) * 64;
  /** Reserves `floats` 4-byte slots at the cursor (64-byte aligned) and returns the byte address. */
  const reserve = (floats: number): number => {
    const p = cursor;
    cursor = align(p + floats * 4);
    if (cursor > memory.buffer.byteLength) grow(cursor);
    return p;
  };
  /** Reserves bytes that stay (frozen parameters, prepared filters); only between calls. */
  const keep = (bytes: number): number => {
    const p = fixedTop;
    fixedTop = align(p + bytes);
    if (fixedTop > memory.buffer.byteLength) grow(fixedTop);
    return p;
  };
  /** The address of a[off, off+len): a frozen parameter is used in place, anything else copied in. */
  const put = (a: Float32Array | Int32Array, off: number, len: number): number => {
    const z = frozenView.get(a);
    if (z) return z.ptr + off * 4;
    const p = reserve(len);
    const src = off === 0 && len === a.length ? a : a.subarray(off, off + len);
    if (a instanceof Float32Array) f32.set(src as Float32Array, p >> 2);
    else i32.set(src as Int32Array, p >> 2);
    return p;
  };
  /** Copies len floats at address p out to a[off...]. */
  const get = (p: number, a: Float32Array, off: number, len: number): void => {
    a.set(f32.subarray(p >> 2, (p >> 2) + len), off);
  };
  /** Starts a call: operands are laid out after the kept memory again. */
  const begin = (): void => {
    cursor = fixedTop;
  };
  /** Hands the memory after the operands to the Wasm workspace allocator (call refresh() after the call: it may grow memory). */
  const go = (): void => ex.setTop(cursor);

  /** y = f(x) for an elementwise kernel that runs in place on one copy of x. */
  const inPlace = (f: (x: number, y: number, len: number) => void, x: Float32Array, y: Float32Array, len: number): void => {
    begin();
    const p = put(x, 0, len);
    go();
    f(p, p, len);
    refresh();
    get(p, y, 0, len);
  };

  const kernels: Kernels = {
    name: "wasm-simd",

    gemm(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, accumulate) {
      begin();
      const a = put(A, aOff, M * K), b = put(B, bOff, K * N);
      const c = accumulate ? put(C, cOff, M * N) : reserve(M * N);
      // A(i,k) at a[i*ars + k*acs]; B(k,j) at b[k*brs + j*bcs].
      const ars = transA ? 1 : K, acs = transA ? M : 1, brs = transB ? 1 : N, bcs = transB ? K : 1;
      go();
      ex.gemm(M, N, K, a, ars, acs, b, brs, bcs, c, N, accumulate ? 1 : 0);
      refresh();
      get(c, C, cOff, M * N);
    },

    im2col(inp, inOff, C, H, W, kh, kw, stride, pad, OH, OW, col, colOff) {
      if (kh !== kw) throw new RangeError("wasm im2col: square kernels only");
      begin();
      const x = put(inp, inOff, C * H * W), len = C * kh * kw * OH * OW, c = reserve(len);
      go();
      ex.im2col(x, C, H, W, kh, stride, pad, OH, OW, c);
      refresh();
      get(c, col, colOff, len);
    },

    col2im(col, colOff, C, H, W, kh, kw, stride, pad, OH, OW, dinp, dinpOff) {
      if (kh !== kw) throw new RangeError("wasm col2im: square kernels only");
      begin();
      const c = put(col, colOff, C * kh * kw * OH * OW), d = put(dinp, dinpOff, C * H * W);
      go();
      ex.col2im(c, C, H, W, kh, stride, pad, OH, OW, d);
      refresh();
      get(d, dinp, dinpOff, C * H * W);
    },

    maxpoolForward(inp, out, argmax, planes, H, W, size, stride, OH, OW) {
      begin();
      const outLen = planes * OH * OW;
      const x = put(inp, 0, planes * H * W), o = reserve(outLen), a = reserve(outLen);
      go();
      ex.maxpoolForward(x, o, a, planes, H, W, size, stride, OH, OW);
      refresh();
      get(o, out, 0, outLen);
      argmax.set(i32.subarray(a >> 2, (a >> 2) + outLen));
    },

    maxpoolBackward(dout, argmax, dinp, outLen) {
      begin();
      const d = put(dout, 0, outLen), a = put(argmax, 0, outLen), x = reserve(dinp.length);
      go();
      ex.maxpoolBackward(d, a, x, outLen, dinp.length);
      refresh();
      get(x, dinp, 0, dinp.length);
    },

    reluForward(x, y, len) {
      begin();
      const p = put(x, 0, len);
      go();
      ex.reluForward(p, p, len);
      refresh();
      get(p, y, 0, len);
    },

    reluBackward(y, dy, dx, len) {
      begin();
      const py = put(y, 0, len), pd = put(dy, 0, len);
      go();
      ex.reluBackward(py, pd, pd, len);
      refresh();
      get(pd, dx, 0, len);
    },

    batchnormStats(x, n, C, HW, mean, variance) {
      begin();
      const px = put(x, 0, n * C * HW), pm = reserve(C), pv = reserve(C);
      go();
      ex.batchnormStats(px, n, C, HW, pm, pv);
      refresh();
      get(pm, mean, 0, C);
      get(pv, variance, 0, C);
    },

    batchnormApply(x, y, n, C, HW, mean, invstd, bias) {
      begin();
      const len = n * C * HW, px = put(x, 0, len), pm = put(mean, 0, C), ps = put(invstd, 0, C), pb = put(bias, 0, C);
      go();
      ex.batchnormApply(px, px, n, C, HW, pm, ps, pb);
      refresh();
      get(px, y, 0, len);
    },

    batchnormBackward(x, dy, dx, dbias, n, C, HW, mean, invstd) {
      begin();
      const len = n * C * HW, px = put(x, 0, len), pd = put(dy, 0, len), pm = put(mean, 0, C), ps = put(invstd, 0, C);
      const pb = reserve(C);
      go();
      ex.batchnormBackward(px, pd, dx ? pd : 0, pb, n, C, HW, pm, ps);
      refresh();
      get(pb, dbias, 0, C);
      if (dx) get(pd, dx, 0, len);
    },

    geluForward(x, y, slope, len) {
      begin();
      const px = put(x, 0, len), ps = reserve(len);
      go();
      ex.geluForward(px, px, ps, len);
      refresh();
      get(px, y, 0, len);
      get(ps, slope, 0, len);
    },

    geluForwardFast(x, y, len) {
      inPlace(ex.geluForwardFast, x, y, len);
    },

    dropoutForward(x, y, mask, len, keep, rng) {
      begin();
      const px = put(x, 0, len), pm = reserve(len), st = reserve(4);
      const state = rng.getState();
      for (let i = 0; i < 4; i++) i32[(st >> 2) + i] = state[i];
      go();
      // u / 2^32 < keep <=> u < keep * 2^32 (exact scaling) <=> u < ceil(keep * 2^32) for integer u.
      ex.dropoutForward(px, px, pm, len, Math.ceil(keep * 4294967296), 1 / keep, st);
      refresh();
      rng.setState([0, 1, 2, 3].map((i) => i32[(st >> 2) + i] >>> 0) as RngState);
      get(px, y, 0, len);
      get(pm, mask, 0, len);
    },

    multiply(a, b, out, len) {
      begin();
      const pa = put(a, 0, len), pb = put(b, 0, len);
      go();
      ex.multiply(pa, pb, pa, len);
      refresh();
      get(pa, out, 0, len);
    },

    convForward(x, w, b, y, n, s: ConvShape) {
      const { C, H, W, F, k, stride, pad, OH, OW } = s;
      // Frozen filters keep their prepared form (Winograd-transformed or packed) between calls.
      const z = frozenView.get(w);
      const key = ((C * 4096 + F) * 16 + k) * 16 + stride;
      if (z && z.key !== key) { z.prepared = 0; z.ready = false; }
      if (z && !z.prepared) { z.prepared = keep(ex.convPreparedBytes(C, F, k, stride)); z.key = key; }
      begin();
      const px = put(x, 0, n * C * H * W), pw = put(w, 0, F * C * k * k), pb = put(b, 0, F);
      const py = reserve(n * F * OH * OW);
      go();
      ex.convForward(px, pw, pb, py, n, C, H, W, F, k, stride, pad, OH, OW, z ? z.prepared : 0, z?.ready ? 1 : 0);
      refresh();
      if (z) z.ready = true;
      get(py, y, 0, n * F * OH * OW);
    },

    convBackward(x, w, dy, dw, db, dx, n, s: ConvShape) {
      const { C, H, W, F, k, stride, pad, OH, OW } = s;
      begin();
      const K = C * k * k;
      const px = put(x, 0, n * C * H * W), pw = put(w, 0, F * K), pdy = put(dy, 0, n * F * OH * OW);
      const pdw = reserve(F * K), pdb = reserve(F), pdx = dx ? reserve(n * C * H * W) : 0;
      go();
      ex.convBackward(px, pw, pdy, pdw, pdb, pdx, n, C, H, W, F, k, stride, pad, OH, OW);
      refresh();
      get(pdw, dw, 0, F * K);
      get(pdb, db, 0, F);
      if (dx) get(pdx, dx, 0, n * C * H * W);
    },

    affineForward(x, w, b, y, n, I, O) {
      begin();
      const px = put(x, 0, n * I), pw = put(w, 0, O * I), pb = put(b, 0, O), py = reserve(n * O);
      go();
      ex.affineForward(px, pw, pb, py, n, I, O);
      refresh();
      get(py, y, 0, n * O);
    },

    affineBackward(x, w, dy, dw, db, dx, n, I, O) {
      begin();
      const px = put(x, 0, n * I), pw = put(w, 0, O * I), pdy = put(dy, 0, n * O);
      const pdw = reserve(O * I), pdb = reserve(O), pdx = dx ? reserve(n * I) : 0;
      go();
      ex.affineBackward(px, pw, pdy, pdw, pdb, pdx, n, I, O);
      refresh();
      get(pdw, dw, 0, O * I);
      get(pdb, db, 0, O);
      if (dx) get(pdx, dx, 0, n * I);
    },

    freezeParams(params) {
      for (const p of params) {
        if (frozenView.has(p.data)) continue;
        const values = p.data, ptr = keep(values.length * 4); // keep() may grow memory: views made after it
        f32.set(values, ptr >> 2);
        const z: Frozen = { param: p, ptr, length: values.length, prepared: 0, ready: false, key: 0 };
        frozen.push(z);
        const view = new Float32Array(memory.buffer, ptr, values.length);
        frozenView.set(view, z);
        p.data = view;
      }
    },
  };
  return kernels;
}
