/**
 * A least-recently-used cache bounded by an estimate of the bytes it holds, not by its entry count: an entry
 * count says nothing about memory when one entry can be a thousand times larger than another (a compiled
 * 1,000-character glob against a 10-character one). The caller states each entry's cost; an entry larger than
 * the whole budget is simply not kept.
 */
export class ByteLru<V> {
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recently used.
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;
  // The most recently used key: repeated hits on it (a SQL function called per row) skip the re-insertion.
  private newest: string | undefined;

  constructor(private budget: number) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, e);
      this.newest = key;
    }
    return e.value;
  }

  /** Stores `value` costing `bytes`; evicts the least recently used entries to stay within the budget. */
  set(key: string, value: V, bytes: number): boolean {
    this.delete(key);
    if (bytes > this.budget) return false;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    this.newest = key;
    this.evict();
    return true;
  }

  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.total -= e.bytes;
    if (this.newest === key) this.newest = undefined;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
    this.newest = undefined;
  }

  /** Changes the budget, evicting at once when it shrank. */
  resize(budget: number): void {
    this.budget = budget;
    this.evict();
  }

  get maxBytes(): number {
    return this.budget;
  }
  get bytes(): number {
    return this.total;
  }
  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    while (this.total > this.budget) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }
}
