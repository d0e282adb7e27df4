/**
 * The store-and-forward queue: messages waiting for the broker, oldest first, at most `capacity` of them. When
 * full, the oldest message makes room for the newest (a subscriber wants the present more than the distant past)
 * and is counted as dropped. A ring buffer: no allocation per message and O(1) at both ends.
 */
export class BoundedQueue<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;
  /** Messages pushed out by newer ones since the queue was made. */
  dropped = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends; drops (and counts) the oldest when full. */
  push(item: T): void {
    if (this.count === this.capacity) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.dropped++;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
  }

  /**
   * Puts messages back at the front, in their order (those a lost connection sent but the broker never
   * acknowledged: they are older than everything queued). What does not fit is the oldest, so it is dropped.
   */
  unshiftAll(items: readonly T[]): void {
    for (let i = items.length - 1; i >= 0; i--) {
      if (this.count === this.capacity) {
        this.dropped += i + 1;
        return;
      }
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.items[this.head] = items[i];
      this.count++;
    }
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
