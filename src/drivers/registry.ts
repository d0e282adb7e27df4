import type { BrowseCapability, DriverFactory } from './driver.js';

/**
 * Every driver Tagway knows, by the `driver:` name used in the project file.
 * `validateConnection` and `validateAddress` answer problems as messages (the project loader adds line numbers).
 */
export interface DriverModule {
  create: DriverFactory;
  /** Problems with the connection's driver-specific options: [path relative to the connection, message]. */
  validateConnection?(options: Record<string, unknown>): Array<[string, string]>;
  /** Problem with a tag's address (and options) for this driver, or undefined. */
  validateTag?(tag: { type: string; address?: string | undefined; options?: Record<string, unknown> | undefined }): string | undefined;
  /** Drivers whose devices have a browsable address space (OPC UA). */
  browse?: BrowseCapability;
}

const modules = new Map<string, DriverModule>();

export function registerDriver(name: string, module: DriverModule): void {
  modules.set(name, module);
}
export function driverModule(name: string): DriverModule | undefined {
  return modules.get(name);
}
export function driverNames(): string[] {
  return [...modules.keys()].sort();
}
