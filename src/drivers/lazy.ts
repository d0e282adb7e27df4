import { TagwayError } from '../domain/problems.js';
import type { TagValue } from '../domain/tag-types.js';
import type { ConnectionStats, Driver, DriverFactory, DriverHost, DriverTag, ConnectionDefinition } from './driver.js';

/**
 * A driver whose implementation (and protocol library) is loaded when the connection starts, so that a project
 * without OPC UA does not pay node-opcua's seconds of start-up.
 */
export class LazyDriver implements Driver {
  inner: Driver | undefined;
  constructor(
    private readonly load: () => Promise<DriverFactory>,
    private readonly connection: ConnectionDefinition,
    private readonly tags: DriverTag[],
    private readonly host: DriverHost,
  ) {}

  async start(): Promise<void> {
    const factory = await this.load();
    this.inner = factory(this.connection, this.tags, this.host);
    await this.inner.start();
  }

  async stop(): Promise<void> {
    await this.inner?.stop();
  }

  write(tag: DriverTag, value: TagValue): Promise<void | number> {
    if (!this.inner) return Promise.reject(new TagwayError('DEVICE_UNAVAILABLE', `Connection '${this.connection.name}' has not started`));
    return this.inner.write(tag, value);
  }

  get publishesWrites(): boolean {
    return this.inner?.publishesWrites ?? false;
  }

  stats(): ConnectionStats {
    return this.inner?.stats?.() ?? { reads: 0, writes: 0, errors: 0 };
  }
}

export function lazyFactory(load: () => Promise<DriverFactory>): DriverFactory {
  return (connection, tags, host) => new LazyDriver(load, connection, tags, host);
}

/** The driver behind a lazy wrapper, or the driver itself. */
export function unwrapDriver(d: Driver | undefined): Driver | undefined {
  return d instanceof LazyDriver ? d.inner : d;
}
