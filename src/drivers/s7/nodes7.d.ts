// The parts of nodes7 (pure JavaScript, no types of its own) that the S7 driver uses.
declare module 'nodes7' {
  import type { Socket } from 'node:net';
  interface ConnectionParams {
    host: string;
    port: number;
    rack?: number;
    slot?: number;
    timeout?: number;
    localTSAP?: number;
    remoteTSAP?: number;
    doNotOptimize?: boolean;
  }
  interface S7Item {
    value: unknown;
    quality: string;
    useraddr: string;
  }
  class NodeS7 {
    constructor(opts?: { silent?: boolean; debug?: boolean });
    initiateConnection(params: ConnectionParams, cb: (err?: unknown) => void): void;
    dropConnection(cb: () => void): void;
    setTranslationCB(cb: (tag: string) => string | undefined): void;
    addItems(items: string | string[]): void;
    removeItems(items?: string | string[]): void;
    readAllItems(cb: (anyBad: boolean, values: Record<string, unknown>) => void): void;
    writeItems(items: string | string[], values: unknown, cb: (anyBad: boolean) => void): number;
    findItem(useraddr: string): S7Item | undefined;
    connectionCleanup(): void;
    isoclient: Socket | undefined;
    isoConnectionState: number;
    maxGap: number;
    maxPDU: number;
    [internal: string]: unknown;
  }
  export = NodeS7;
}
