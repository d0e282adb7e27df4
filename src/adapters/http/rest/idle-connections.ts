import type { Server, Socket } from 'node:net';

/**
 * The idle timeout of HTTP connections (no byte read or written for `idleMs`), kept by one sweep over the open
 * connections instead of Node's per-socket timer (`server.timeout`, fastify's connectionTimeout). That timer costs
 * every request a new timer object when the keep-alive timer hands back to it, and a timer refresh on every read
 * and write: about a microsecond per request, 5 % of a tag read. The sweep costs nothing per request.
 *
 * An idle connection gets its `timeout` event, as the timer would give it: the HTTP server then ends it, unless it
 * was upgraded (WebSocket), whose timeout handling the server removes at the upgrade. It is cut between `idleMs`
 * and `idleMs` plus one sweep period after its last byte. Between requests the keep-alive timeout applies first.
 */
export function cutIdleConnections(server: Server, idleMs: number, secure: boolean): void {
  if (!(idleMs > 0)) return;
  const open = new Map<Socket, { bytes: number; since: number }>();
  // The socket HTTP sees: the TLS socket once its handshake is done (the handshake has a timeout of its own).
  server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
    open.set(socket, { bytes: -1, since: Date.now() });
    socket.once('close', () => open.delete(socket));
  });
  const period = Math.max(100, Math.min(1000, Math.floor(idleMs / 4)));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [socket, seen] of open) {
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== seen.bytes) {
        seen.bytes = bytes;
        seen.since = now;
      } else if (now - seen.since >= idleMs) {
        seen.since = now;
        socket.emit('timeout');
      }
    }
  }, period);
  sweep.unref();
  server.once('close', () => clearInterval(sweep));
}
