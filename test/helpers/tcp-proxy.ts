import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy put between one process and a service (PostgreSQL, nats-server) to cut that process off the
 * service alone, the way a failed switch port or a firewall rule would, while everything else keeps reaching it.
 */
export interface TcpProxy {
  /** The proxy's own port on 127.0.0.1: point the process at this one instead of the service's. */
  readonly port: number;
  /**
   * Cuts the link. `reset` (default) destroys every open socket and refuses new ones (the peer sees the connection
   * drop at once). `blackhole` keeps the sockets open but stops forwarding and accepts nothing new: a partition the
   * peer only notices through its own timeouts (pings, query timeouts).
   */
  cut(mode?: 'reset' | 'blackhole'): void;
  /** Forwards again (new connections; sockets held open by a blackhole are dropped now, as a healed network would). */
  restore(): void;
  /** Connections accepted so far (to check the process really goes through the proxy). */
  readonly accepted: number;
  close(): Promise<void>;
}

/** Starts a proxy on an ephemeral loopback port forwarding to 127.0.0.1:targetPort. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let mode: 'open' | 'reset' | 'blackhole' = 'open';
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (mode !== 'open') {
      // Refused: the peer sees an immediate reset, as with a closed port.
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (d: Buffer) => {
      if (mode === 'open') upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (mode === 'open') client.write(d);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const dropAll = () => {
    for (const [a, b] of [...pairs]) {
      a.resetAndDestroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut(how = 'reset') {
      mode = how;
      if (how === 'reset') dropAll();
    },
    restore() {
      if (mode === 'blackhole') dropAll();
      mode = 'open';
    },
    async close() {
      mode = 'reset';
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
