// A minimal protobuf encoder: just the wire types an ONNX ModelProto needs, written by hand so the
// exporter has no dependency. Wire format (https://protobuf.dev/programming-guides/encoding/):
// every field is a tag varint `(field << 3) | wireType` followed by its value, where
//   wire type 0 (VARINT): the integer 7 bits at a time, least significant first, high bit = "more";
//   wire type 2 (LEN):    a varint byte length, then that many bytes (strings, bytes, nested messages).
// The ONNX exporter stores tensor data as `raw_data` bytes, so no fixed32/fixed64 fields are needed.

const VARINT = 0;
const LEN = 2;

const utf8 = new TextEncoder();

/** Appends encoded fields; nested messages are spliced in by reference, so big tensors are copied once. */
export class ProtoWriter {
  private parts: Uint8Array[] = [];
  /** Encoded length in bytes so far. */
  length = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint must be a non-negative safe integer, got ${value}`);
    const out: number[] = [];
    while (value >= 0x80) {
      out.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    out.push(value);
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** An int32/int64/uint64/enum field (non-negative values only: ONNX needs no negative varints here). */
  varint(field: number, value: number): this {
    this.tag(field, VARINT);
    this.rawVarint(value);
    return this;
  }

  /** A bytes field. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, LEN);
    this.rawVarint(data.length);
    this.push(data);
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, text: string): this {
    return this.bytes(field, utf8.encode(text));
  }

  /** An embedded message field, built by `build` on a fresh writer. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const child = new ProtoWriter();
    build(child);
    this.tag(field, LEN);
    this.rawVarint(child.length);
    for (const p of child.parts) this.push(p);
    return this;
  }

  /** The encoded message as one buffer. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}
