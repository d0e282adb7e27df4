import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Finding 17: slow connections were held 69–120 s and one address could open any number of them. Now a client
 * must finish TLS and its headers within the headers timeout, the whole request within the request timeout, and
 * one address holds at most `maxConnectionsPerAddress` sockets.
 */

/** Resolves with the milliseconds until the socket closed (or rejects after `boundMs`). */
function closedWithin(socket: Socket, boundMs: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${boundMs} ms`)), boundMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - t0);
    });
  });
}

/** A TLS connection to the test server, once its handshake is done. */
function tlsSocketTo(s: TestServer): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const t = tlsConnect({ host: '127.0.0.1', port: Number(new URL(s.url).port), ca: s.ca, servername: 'localhost' }, () => resolve(t));
    t.once('error', reject);
  });
}

describe('slow clients are cut', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({
      config: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000, idleTimeoutMs: 3000 },
    });
  });
  afterAll(async () => {
    await s?.stop();
  });
  const port = () => Number(new URL(s.url).port);
  const tlsSocket = () => tlsSocketTo(s);

  it('a slowloris client sending one header byte every 200 ms is cut within the headers timeout', async () => {
    const socket = await tlsSocket();
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X'), 200);
    let answer = '';
    socket.on('data', (d) => (answer += String(d)));
    const health = await s.request('GET', '/health'); // other clients are served meanwhile
    expect(health.status).toBe(200);
    try {
      await closedWithin(socket, 6000);
    } finally {
      clearInterval(drip);
    }
    expect(answer).not.toMatch(/^HTTP\/1\.1 200/);
  });

  it('a client that never finishes the TLS handshake is cut', async () => {
    const raw = netConnect({ host: '127.0.0.1', port: port() });
    await new Promise((r) => raw.once('connect', r));
    await closedWithin(raw, 6000);
  });

  it('a client sending its body slowly is cut within the request timeout', async () => {
    const token = await s.login();
    const socket = await tlsSocket();
    socket.write(
      `PUT /tags/T.Int32/value HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"value":`,
    );
    const drip = setInterval(() => socket.writable && socket.write(' '), 200);
    try {
      await closedWithin(socket, 7000);
    } finally {
      clearInterval(drip);
    }
    expect((await s.request('GET', '/tags/T.Int32/value', { token })).status).toBe(200);
  });
});

describe('an idle TLS connection is cut by the idle timeout (one sweep, not a timer per socket)', () => {
  let s: TestServer;
  beforeAll(async () => {
    // The idle timeout far below the others, so that only it can end the connection below.
    s = await startTestServer({
      config: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 10_000, idleTimeoutMs: 1000 },
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('a request whose body stops arriving is cut after the idle time, long before the request timeout', async () => {
    const token = await s.login();
    const socket = await tlsSocketTo(s);
    socket.write(
      `PUT /tags/T.Int32/value HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"value":`,
    );
    const ms = await closedWithin(socket, 8000);
    expect(ms).toBeGreaterThanOrEqual(900);
  });
});

/** GET /health over a fresh TLS connection from a given loopback source address; resolves with the status line. */
function healthFrom(port: number, ca: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // localAddress reaches net.connect under tls.connect; the TLS typings leave it out.
    const t = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', localAddress } as ConnectionOptions, () =>
      t.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
    );
    let answer = '';
    t.on('data', (d) => (answer += String(d)));
    t.once('error', reject);
    t.once('close', () => resolve(answer.split('\r\n')[0]!));
  });
}

describe('connections per client address', () => {
  let s: TestServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    s = await startTestServer({ config: { maxConnectionsPerAddress: 8 } });
  });
  afterAll(async () => {
    for (const x of sockets) x.destroy();
    await s?.stop();
  });

  it('closes connections over the cap at accept; other addresses are served; the cap frees as sockets close', async () => {
    const port = Number(new URL(s.url).port);
    for (let i = 0; i < 8; i++) {
      const x = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
      x.on('error', () => undefined);
      await new Promise((r) => x.once('connect', r));
      sockets.push(x);
    }
    // The ninth from the same address is closed at once.
    const ninth = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    await closedWithin(ninth, 2000);
    for (const x of sockets) expect(x.destroyed).toBe(false);

    // Another client (another loopback source address) is served.
    const t0 = performance.now();
    expect(await healthFrom(port, s.ca, '127.0.0.2')).toBe('HTTP/1.1 200 OK');
    expect(performance.now() - t0).toBeLessThan(2000);

    // Closing one frees a place.
    sockets.pop()!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await healthFrom(port, s.ca, '127.0.0.1')).toBe('HTTP/1.1 200 OK');
  });
});
