/**
 * Which of a subscription's tags have a newer value than the client has seen.
 *
 * Coalescing (SignalK's LatestValuesAccumulator idea) needs no copy of the values: the tag engine already holds
 * the latest value of every tag, so "keep only the latest value per tag" is "remember which tags to send, read
 * them when sending". A tag that changes a thousand times while the socket is congested is one slot here, and
 * the memory is fixed at subscribe time: one byte and one int per subscribed tag, whatever the client does.
 */
export class LatestValues {
  private readonly flags: Uint8Array;
  private readonly order: Int32Array;
  private head = 0;
  private tail = 0;

  /** `capacity` = number of positions (tags) of the subscription. */
  constructor(capacity: number) {
    this.flags = new Uint8Array(capacity);
    // A ring of capacity + 1 never fills up, because each position is in it at most once.
    this.order = new Int32Array(capacity + 1);
  }

  get size(): number {
    const n = this.tail - this.head;
    return n >= 0 ? n : n + this.order.length;
  }

  has(pos: number): boolean {
    return this.flags[pos] === 1;
  }

  /** Marks a position as changed; a position already marked keeps its place (first change decides the order). */
  mark(pos: number): boolean {
    if (this.flags[pos] === 1) return false;
    this.flags[pos] = 1;
    this.order[this.tail] = pos;
    this.tail = this.tail + 1 === this.order.length ? 0 : this.tail + 1;
    return true;
  }

  /** Removes and returns the oldest marked position, or -1. */
  take(): number {
    if (this.head === this.tail) return -1;
    const pos = this.order[this.head]!;
    this.head = this.head + 1 === this.order.length ? 0 : this.head + 1;
    this.flags[pos] = 0;
    return pos;
  }

  clear(): void {
    this.flags.fill(0);
    this.head = this.tail = 0;
  }
}
