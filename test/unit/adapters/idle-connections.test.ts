import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { cutIdleConnections } from '../../../src/adapters/http/rest/idle-connections.js';

const IDLE = 300;

/** Resolves with the milliseconds until the socket closed, or -1 if it is still open after `boundMs`. */
function closedAfter(socket: Socket, boundMs: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(-1), boundMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
}

describe('idle connections (one sweep instead of a timer per socket)', () => {
  let server: Server;
  const upgraded: Duplex[] = [];
  afterEach(async () => {
    for (const u of upgraded.splice(0)) u.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  async function start(): Promise<(request: string) => Promise<Socket>> {
    // A handler that never answers: only the idle timeout can end the connection.
    server = createServer({ requestTimeout: 0, headersTimeout: 0 } as never, () => undefined);
    server.on(
      'upgrade',
      (_req, socket: Duplex) =>
        upgraded.push(socket) && socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n'),
    );
    cutIdleConnections(server, IDLE, false);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return (request) =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.write(request);
          resolve(s);
        });
      });
  }

  it('cuts a connection with no byte read or written for the idle time', async () => {
    const open = await start();
    const s = await open('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await closedAfter(s, 3000);
    expect(ms).toBeGreaterThanOrEqual(IDLE - 50);
    expect(ms).toBeLessThan(IDLE + 500);
  });

  it('keeps a connection that moves bytes, and cuts it once they stop', async () => {
    const open = await start();
    const s = await open('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n');
    const drip = setInterval(() => s.write('x'), IDLE / 3);
    expect(await closedAfter(s, IDLE * 4)).toBe(-1);
    clearInterval(drip);
    expect(await closedAfter(s, 3000)).toBeGreaterThan(0);
  });

  it('leaves upgraded connections (WebSocket) alone, as Node does', async () => {
    const open = await start();
    const s = await open('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    expect(await closedAfter(s, IDLE * 4)).toBe(-1);
    s.destroy();
  });
});
