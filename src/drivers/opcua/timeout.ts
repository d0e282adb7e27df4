import { TagwayError } from '../../domain/problems.js';

/**
 * Bounds a node-opcua promise: node-opcua's own timeouts are long (tens of seconds) and some steps (the HEL/ACK
 * handshake with a peer that accepts and never answers) would otherwise wait far longer than a caller may.
 * The late outcome of the original promise is swallowed so it cannot become an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TagwayError('DEVICE_TIMEOUT', `${what}: no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
