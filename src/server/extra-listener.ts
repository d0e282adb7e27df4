import { createServer, type Server as NetServer } from 'node:net';

/**
 * A second TCP port for the same HTTP(S) server: each connection accepted there is handed to `target` as if it had
 * accepted it itself (TLS, timeouts, the per-address connection cap and graceful close all apply). Classic WinCC
 * clients expect their service on 34568/34569 beside the main port.
 */
export async function listenAlso(target: NetServer, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const extra = createServer((socket) => target.emit('connection', socket));
  await new Promise<void>((resolve, reject) => {
    extra.once('error', reject);
    extra.listen({ port, host }, () => {
      extra.off('error', reject);
      resolve();
    });
  });
  const address = extra.address();
  let closed: Promise<void> | undefined;
  return {
    port: typeof address === 'object' && address ? address.port : port,
    // Stops accepting at once; resolves when the connections it accepted are gone (the target closes them).
    close: () => (closed ??= new Promise<void>((resolve) => extra.close(() => resolve()))),
  };
}
