// Workspace and small helpers shared by the kernels: the bump allocator (its `top` lives only here
// and changes only through setTop and alloc), integer helpers, and f32x4 copy / fill / sum.

// ---------------------------------------------------------------------------------------------
// Workspace

let top: usize = 0;

/** First byte the JS side may use (64-aligned; static data lies below). */
export function heapBase(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

/** Resets the workspace allocator to `p` (the end of the operands the JS side copied in). */
export function setTop(p: usize): void {
  top = (p + 63) & ~(<usize>63);
}

/** Grows memory so that [0, end) is addressable. */
function ensure(end: usize): void {
  const need = <i32>((end + 0xffff) >>> 16);
  const have = memory.size();
  if (need > have && memory.grow(need - have) < 0) unreachable();
}

export function alloc(bytes: usize): usize {
  const p = top;
  top = (p + bytes + 63) & ~(<usize>63);
  ensure(top);
  return p;
}

// @ts-ignore: decorator
@inline export function imin(a: i32, b: i32): i32 { return a < b ? a : b; }

// @ts-ignore: decorator
@inline function ceilDiv(a: i32, b: i32): i32 { return (a + b - 1) / b; }
/** Splits `total` into equal blocks of at most `max`. */
// @ts-ignore: decorator
@inline export function blockOf(total: i32, max: i32): i32 { return ceilDiv(total, ceilDiv(total, max)); }
// @ts-ignore: decorator
@inline export function roundUp(a: i32, b: i32): i32 { return ceilDiv(a, b) * b; }

// ---------------------------------------------------------------------------------------------
// Small helpers

export function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + <usize>(i << 2), v128.load(src + <usize>(i << 2)));
  for (; i < n; i++) store<f32>(dst + <usize>(i << 2), load<f32>(src + <usize>(i << 2)));
}

export function fillFloats(dst: usize, v: f32, n: i32): void {
  const s = f32x4.splat(v);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + <usize>(i << 2), s);
  for (; i < n; i++) store<f32>(dst + <usize>(i << 2), v);
}

export function sumFloats(src: usize, n: i32): f32 {
  let s = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) s = f32x4.add(s, v128.load(src + <usize>(i << 2)));
  let t = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; i < n; i++) t += load<f32>(src + <usize>(i << 2));
  return t;
}
