// A least-recently-used cache bounded by bytes (not entries): decoded models differ in size by 100x,
// and what must stay bounded is the isolate's memory. A value bigger than the whole budget is still
// kept (alone), so the model being served is never dropped mid-request.

export class ByteLru<V> {
  private entries = new Map<string, { value: V; bytes: number }>(); // Map keeps insertion order: oldest first
  private total = 0;

  /** Settable: the Worker reads its budget from settings on each request. */
  constructor(public maxBytes: number) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key); // re-insert: now the most recently used
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [k, e] of this.entries) {
      if (this.total <= this.maxBytes || k === key) break;
      this.entries.delete(k);
      this.total -= e.bytes;
    }
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (e) { this.entries.delete(key); this.total -= e.bytes; }
  }

  get bytes(): number { return this.total; }
  keys(): string[] { return [...this.entries.keys()]; }
}
