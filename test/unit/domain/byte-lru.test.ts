import { describe, expect, it } from 'vitest';
import { ByteLru } from '../../../src/domain/byte-lru.js';

describe('ByteLru: a cache bounded by bytes', () => {
  it('keeps what fits and evicts the least recently used first', () => {
    const c = new ByteLru<string>(100);
    c.set('a', 'A', 40);
    c.set('b', 'B', 40);
    expect(c.get('a')).toBe('A'); // a is now the most recently used
    c.set('c', 'C', 40); // 120 > 100: evicts b, not a
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe('A');
    expect(c.get('c')).toBe('C');
    expect(c.bytes).toBe(80);
    expect(c.size).toBe(2);
  });

  it('never holds more than its budget, whatever the entry sizes', () => {
    const c = new ByteLru<number>(1_000);
    for (let i = 0; i < 10_000; i++) {
      c.set(`k${i}`, i, 1 + ((i * 37) % 300));
      expect(c.bytes).toBeLessThanOrEqual(1_000);
    }
    expect(c.size).toBeGreaterThan(0);
  });

  it('does not keep an entry larger than the whole budget, and evicts nothing for it', () => {
    const c = new ByteLru<string>(100);
    c.set('small', 's', 10);
    expect(c.set('huge', 'h', 101)).toBe(false);
    expect(c.get('huge')).toBeUndefined();
    expect(c.get('small')).toBe('s');
    expect(c.bytes).toBe(10);
  });

  it('replacing a key counts its new size only once', () => {
    const c = new ByteLru<string>(100);
    c.set('a', '1', 30);
    c.set('a', '2', 50);
    expect(c.get('a')).toBe('2');
    expect(c.bytes).toBe(50);
    expect(c.size).toBe(1);
  });

  it('delete, clear and a smaller budget free their bytes', () => {
    const c = new ByteLru<string>(100);
    c.set('a', 'A', 30);
    c.set('b', 'B', 30);
    c.set('c', 'C', 30);
    expect(c.delete('b')).toBe(true);
    expect(c.delete('b')).toBe(false);
    expect(c.bytes).toBe(60);
    c.get('a'); // c is now the oldest
    c.resize(40);
    expect(c.maxBytes).toBe(40);
    expect([c.get('a'), c.get('c')]).toEqual(['A', undefined]);
    expect(c.bytes).toBe(30);
    c.clear();
    expect([c.size, c.bytes]).toEqual([0, 0]);
  });

  it('repeated hits on the newest entry keep the order right', () => {
    const c = new ByteLru<string>(60);
    c.set('a', 'A', 20);
    c.set('b', 'B', 20);
    c.get('b');
    c.get('b');
    c.get('a');
    c.set('c', 'C', 30); // 70 > 60: b is the oldest now
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe('A');
    c.delete('a');
    c.get('c');
    c.set('d', 'D', 20);
    expect(c.get('c')).toBe('C');
  });
});
