// The Wasm SIMD kernels, in AssemblyScript (compiled by `npm run build:wasm` to ../kernels.wasm; the
// committed .wasm must equal that build, test/shared/wasm-build.test.ts checks). Every function works
// on raw pointers into this module's linear memory; the JS side (../../wasm-kernels.ts) copies
// operands in, calls, and copies results out. Workspace (packed panels, padded images, transformed
// tiles) comes from a bump allocator that the JS side resets before each call with `setTop`, growing
// memory when needed: nothing is freed, nothing leaks, and no call allocates anything managed.
//
// This file is the entry point the build compiles; it only re-exports the kernels (its exports are
// the module's exports). The code lives in:
//
//   memory.ts         the workspace allocator (heapBase, setTop, alloc) and small helpers (imin,
//                     blockOf, roundUp, copyFloats, fillFloats, sumFloats)
//   gemm.ts           matrix product: the 4 x 8 micro-kernel, packing of A and B panels, the macro
//                     loop and gemm (BLIS structure)
//   conv.ts           convolution by im2col without the column matrix: offset tables, padding,
//                     packConvB, convForward / convBackward (dispatching to Winograd), im2col, col2im
//   winograd.ts       Winograd F(2x2, 3x3) for 3 x 3 stride-1 convolutions, forward and backward
//   affine.ts         fully connected layers (on gemm)
//   pooling.ts        max pooling
//   elementwise.ts    ReLU and dropout
//   normalization.ts  batch normalisation
//   activation.ts     GELU
//
// Imports between them: memory <- gemm, winograd, affine, conv; gemm <- conv, affine;
// winograd <- conv. Mutable state (the allocator's `top`) lives only in memory.ts.

export { heapBase, setTop } from "./memory";
export { gemm } from "./gemm";
export { convPreparedBytes, convForward, convBackward, im2col, col2im } from "./conv";
export { affineForward, affineBackward } from "./affine";
export { maxpoolForward, maxpoolBackward } from "./pooling";
export { dropoutForward, multiply, reluForward, reluBackward } from "./elementwise";
export { batchnormStats, batchnormApply, batchnormBackward } from "./normalization";
export { geluForward, geluForwardFast } from "./activation";
