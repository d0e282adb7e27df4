import { describe, expect, it } from 'vitest';
import { ChunkedBody } from '../../../src/adapters/http/shared/chunked-body.js';

describe('ChunkedBody', () => {
  it('gathers small writes into chunks and delivers everything in order', async () => {
    const body = new ChunkedBody();
    const producer = (async () => {
      for (let i = 0; i < 20_000; i++) await body.write(`${i},`);
      body.finish();
    })();
    let text = '';
    let chunks = 0;
    for await (const c of body) {
      text += String(c);
      chunks++;
    }
    await producer;
    expect(text).toBe(Array.from({ length: 20_000 }, (_, i) => `${i},`).join(''));
    expect(chunks).toBeLessThan(10);
  });

  it('holds the producer back until the consumer reads (backpressure)', async () => {
    const body = new ChunkedBody();
    let written = 0;
    const producer = (async () => {
      for (let i = 0; i < 100; i++) {
        await body.write('x'.repeat(64 * 1024));
        written++;
      }
      body.finish();
    })();
    await new Promise((r) => setTimeout(r, 50));
    // Nobody reads: only what fits the stream's buffer has been accepted.
    expect(written).toBeLessThan(3);
    let bytes = 0;
    for await (const c of body) bytes += (c as Buffer).length;
    await producer;
    expect(written).toBe(100);
    expect(bytes).toBe(100 * 64 * 1024);
  });

  it('rejects the waiting and every later write once the consumer is gone', async () => {
    const body = new ChunkedBody();
    const waiting = (async () => {
      for (;;) await body.write('y'.repeat(64 * 1024));
    })();
    await new Promise((r) => setTimeout(r, 20));
    body.destroy();
    await expect(waiting).rejects.toThrow(/closed the connection/);
    await expect(body.write('z')).rejects.toThrow();
  });
});
