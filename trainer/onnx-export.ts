// ONNX export: the network as an ONNX ModelProto (IR version 8, opset 13), so an independent runtime
// (onnxruntime-web in the tests) can check our forward pass, and users can take the model elsewhere.
// Field numbers below are those of onnx/onnx.proto.
//
// Graph: input "input" float [N, C, H, W] (N symbolic) -> one node per layer, named after the layer
// (Conv, Relu, MaxPool; Flatten before an affine layer that follows a spatial layer; Gemm with
// transB=1 because our affine weights are [units x inputs]) -> "logits" [N, classes] -> Softmax(axis 1)
// -> "probabilities" [N, classes]. Dropout is inverted (identity at inference), so it emits no node.
// GELU is x * 0.5 * (1 + Erf(x / sqrt 2)) (opset 13 has no Gelu op), global pooling GlobalMaxPool /
// GlobalAveragePool, a bias-free conv or affine layer simply has no bias input. A network with
// batchnorm is exported in its inference form (batchnorm and the logit scale folded into the weights),
// the same form the Worker runs.

import { inferenceNetwork } from "../shared/fold-batchnorm.ts";
import type { Network } from "../shared/network.ts";
import { resolveSpec, type Shape } from "../shared/spec.ts";
import { ProtoWriter } from "./protobuf-writer.ts";

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;

// TensorProto.DataType
const FLOAT = 1;
const INT64 = 7;
// AttributeProto.AttributeType
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attr = { name: string; int: number } | { name: string; ints: number[] };

interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  output: string;
  attrs?: Attr[];
}

interface Initializer {
  name: string;
  dims: number[];
  type: typeof FLOAT | typeof INT64;
  raw: Uint8Array;
}

export interface OnnxExportOptions {
  /** Class names, stored as a JSON array under the metadata key "labels". */
  labels?: string[];
  /** Graph name (default: the architecture name). */
  name?: string;
}

/**
 * Encodes `net` (its architecture and current weights) as an ONNX model: input "input" float
 * [N, C, H, W], outputs "probabilities" and "logits", both float [N, classes]. Returns the bytes
 * of a `.onnx` file.
 */
export function exportOnnx(trained: Network, options: OnnxExportOptions = {}): Uint8Array {
  const { labels } = options;
  const net = inferenceNetwork(trained);
  if (labels && labels.length !== net.classes) {
    throw new Error(`got ${labels.length} labels for a network with ${net.classes} classes`);
  }
  const nodes: OnnxNode[] = [];
  const inits: Initializer[] = [];
  const floatInit = (paramName: string): string => {
    const p = net.param(paramName);
    inits.push({ name: p.name, dims: p.shape, type: FLOAT, raw: float32LE(p.data) });
    return p.name;
  };

  const has = (name: string): boolean => net.params.some((p) => p.name === name);
  const constInit = (name: string, value: number): string => {
    if (!inits.some((t) => t.name === name)) inits.push({ name, dims: [], type: FLOAT, raw: float32LE(Float32Array.of(value)) });
    return name;
  };

  const layers = resolveSpec(net.spec);
  let current = "input";
  let spatial = true; // is `current` [N, C, H, W] (true) or [N, features] (false)?
  layers.forEach((layer, i) => {
    const out = i === layers.length - 1 ? "logits" : layer.name;
    // A conv or pool after an affine layer needs its [N, units] input back as [N, units, 1, 1].
    const toSpatial = (shape: Shape): void => {
      if (spatial) return;
      const shapeName = `${layer.name}.input_shape`;
      inits.push({ name: shapeName, dims: [4], type: INT64, raw: int64LE([0, ...shape]) }); // 0 = keep N
      nodes.push({ op: "Reshape", name: `${layer.name}.reshape`, inputs: [current, shapeName], output: `${layer.name}.reshaped` });
      current = `${layer.name}.reshaped`;
      spatial = true;
    };
    switch (layer.type) {
      case "conv": {
        toSpatial(layer.inShape);
        const stride = layer.stride ?? 1, pad = layer.pad ?? 0;
        nodes.push({
          op: "Conv", name: layer.name, output: out,
          inputs: [current, floatInit(`${layer.name}.weight`), ...(has(`${layer.name}.bias`) ? [floatInit(`${layer.name}.bias`)] : [])],
          attrs: [
            { name: "kernel_shape", ints: [layer.size, layer.size] },
            { name: "strides", ints: [stride, stride] },
            { name: "pads", ints: [pad, pad, pad, pad] }, // [top, left, bottom, right]
          ],
        });
        break;
      }
      case "pool": {
        toSpatial(layer.inShape);
        const stride = layer.stride ?? layer.size;
        nodes.push({
          op: "MaxPool", name: layer.name, output: out, inputs: [current],
          attrs: [{ name: "kernel_shape", ints: [layer.size, layer.size] }, { name: "strides", ints: [stride, stride] }],
        });
        break;
      }
      case "relu":
        nodes.push({ op: "Relu", name: layer.name, output: out, inputs: [current] });
        break;
      case "gelu": {
        const n = layer.name;
        nodes.push({ op: "Mul", name: `${n}.scaled`, inputs: [current, constInit("gelu.inv_sqrt2", Math.SQRT1_2)], output: `${n}.scaled` });
        nodes.push({ op: "Erf", name: `${n}.erf`, inputs: [`${n}.scaled`], output: `${n}.erf` });
        nodes.push({ op: "Add", name: `${n}.one_plus`, inputs: [`${n}.erf`, constInit("gelu.one", 1)], output: `${n}.one_plus` });
        nodes.push({ op: "Mul", name: `${n}.half`, inputs: [current, constInit("gelu.half", 0.5)], output: `${n}.half` });
        nodes.push({ op: "Mul", name: n, inputs: [`${n}.half`, `${n}.one_plus`], output: out });
        break;
      }
      case "globalpool":
        toSpatial(layer.inShape);
        nodes.push({ op: layer.mode === "max" ? "GlobalMaxPool" : "GlobalAveragePool", name: layer.name, output: out, inputs: [current] });
        break;
      case "scale":
        nodes.push({ op: "Mul", name: layer.name, output: out, inputs: [current, constInit(`${layer.name}.factor`, layer.factor)] });
        break;
      case "batchnorm":
        throw new Error(`layer ${layer.name}: batchnorm should have been folded`);
      case "dropout":
        return; // identity at inference: `current` passes through unchanged
      case "affine":
        if (spatial) {
          // Flatten(axis 1) is C*H*W order per example, the same order our affine layer reads.
          nodes.push({ op: "Flatten", name: `${layer.name}.flatten`, inputs: [current], output: `${layer.name}.flat`, attrs: [{ name: "axis", int: 1 }] });
          current = `${layer.name}.flat`;
          spatial = false;
        }
        nodes.push({
          op: "Gemm", name: layer.name, output: out,
          inputs: [current, floatInit(`${layer.name}.weight`), ...(has(`${layer.name}.bias`) ? [floatInit(`${layer.name}.bias`)] : [])],
          attrs: [{ name: "transB", int: 1 }],
        });
        break;
    }
    current = out;
  });
  nodes.push({ op: "Softmax", name: "softmax", inputs: ["logits"], output: "probabilities", attrs: [{ name: "axis", int: 1 }] });

  const [c, h, w] = net.spec.input;
  const metadata: [string, string][] = [["architecture", JSON.stringify(net.spec)]];
  if (labels) metadata.push(["labels", JSON.stringify(labels)]);

  // ModelProto
  const model = new ProtoWriter()
    .varint(1, ONNX_IR_VERSION) // ir_version
    .message(8, (m) => m.string(1, "").varint(2, ONNX_OPSET)) // opset_import: OperatorSetIdProto {domain, version}
    .string(2, "edge-cnn") // producer_name
    .message(7, (g) => writeGraph(g, options.name ?? net.spec.name, nodes, inits, [c, h, w], net.classes)); // graph
  for (const [key, value] of metadata) {
    model.message(14, (e) => e.string(1, key).string(2, value)); // metadata_props: StringStringEntryProto {key, value}
  }
  return model.finish();
}

/** GraphProto. */
function writeGraph(g: ProtoWriter, name: string, nodes: OnnxNode[], inits: Initializer[], input: Shape, classes: number): void {
  for (const node of nodes) g.message(1, (n) => writeNode(n, node)); // node
  g.string(2, name); // name
  for (const t of inits) g.message(5, (m) => writeTensor(m, t)); // initializer
  g.message(11, (v) => writeValueInfo(v, "input", ["N", ...input])); // input
  g.message(12, (v) => writeValueInfo(v, "probabilities", ["N", classes])); // output
  g.message(12, (v) => writeValueInfo(v, "logits", ["N", classes])); // output
}

/** NodeProto. */
function writeNode(w: ProtoWriter, node: OnnxNode): void {
  for (const input of node.inputs) w.string(1, input); // input
  w.string(2, node.output); // output
  w.string(3, node.name); // name
  w.string(4, node.op); // op_type
  for (const attr of node.attrs ?? []) {
    w.message(5, (a) => { // attribute: AttributeProto
      a.string(1, attr.name); // name
      if ("int" in attr) a.varint(3, attr.int).varint(20, ATTR_INT); // i, type
      else { for (const v of attr.ints) a.varint(8, v); a.varint(20, ATTR_INTS); } // ints (repeated), type
    });
  }
}

/** TensorProto with its data as little-endian raw_data. */
function writeTensor(w: ProtoWriter, t: Initializer): void {
  for (const d of t.dims) w.varint(1, d); // dims (repeated int64)
  w.varint(2, t.type); // data_type
  w.string(8, t.name); // name
  w.bytes(9, t.raw); // raw_data
}

/** ValueInfoProto for a float tensor; a string dimension is symbolic. */
function writeValueInfo(w: ProtoWriter, name: string, dims: (number | string)[]): void {
  w.string(1, name); // name
  w.message(2, (type) => // type: TypeProto
    type.message(1, (tensor) => { // tensor_type: TypeProto.Tensor
      tensor.varint(1, FLOAT); // elem_type
      tensor.message(2, (shape) => { // shape: TensorShapeProto
        for (const d of dims) {
          // dim: Dimension {dim_value = 1 | dim_param = 2}
          shape.message(1, (dim) => (typeof d === "number" ? dim.varint(1, d) : dim.string(2, d)));
        }
      });
    }));
}

function float32LE(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

function int64LE(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}
