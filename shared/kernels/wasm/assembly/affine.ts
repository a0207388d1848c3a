// Fully connected: y [n x O] = x [n x I] W^T + b, W [O x I].

import { copyFloats } from "./memory";
import { gemm } from "./gemm";

export function affineForward(x: usize, w: usize, b: usize, y: usize, n: i32, I: i32, O: i32): void {
  for (let i = 0; i < n; i++) copyFloats(y + <usize>(i * O << 2), b, O);
  gemm(n, O, I, x, I, 1, w, 1, I, y, O, 1);
}

/** dw = dy^T x and db = column sums of dy (overwritten); dx = dy W (overwritten, unless dx is 0). */
export function affineBackward(x: usize, w: usize, dy: usize, dw: usize, db: usize, dx: usize, n: i32, I: i32, O: i32): void {
  gemm(O, I, n, dy, 1, O, x, I, 1, dw, I, 0);
  copyFloats(db, dy, O);
  for (let i = 1; i < n; i++) {
    const r = dy + <usize>(i * O << 2);
    let o = 0;
    for (; o + 4 <= O; o += 4) v128.store(db + <usize>(o << 2), f32x4.add(v128.load(db + <usize>(o << 2)), v128.load(r + <usize>(o << 2))));
    for (; o < O; o++) store<f32>(db + <usize>(o << 2), load<f32>(db + <usize>(o << 2)) + load<f32>(r + <usize>(o << 2)));
  }
  if (dx) gemm(n, I, O, dy, O, 1, w, I, 1, dx, I, 0);
}
