// The public surface of shared/: everything the trainer, the Worker and the widget use.
export * from "./spec.ts";
export * from "./rng.ts";
export * from "./network.ts";
export * from "./init.ts";
export * from "./loss.ts";
export * from "./optimizer.ts";
export * from "./train-step.ts";
export * from "./predict.ts";
export type { Kernels, ConvShape } from "./kernels/kernels.ts";
export { convShape } from "./kernels/kernels.ts";
export { tsKernels } from "./kernels/ts-kernels.ts";
export { bestKernels, createWasmKernels, wasmSimdSupported } from "./kernels/wasm-kernels.ts";
export type { Param, Layer, MaskStreams } from "./layers/layer.ts";
export * from "./preprocess.ts";
export * from "./model-file.ts";
export * from "./fold-batchnorm.ts";
export * from "./whitening.ts";
export * from "./views.ts";
