import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp, type AppOptions } from '../adapters/http/rest/app.js';
import type { Config } from '../config.js';
import { DEMO_PROJECT_FILE, loadProjectFile } from '../project/load.js';
import type { Project } from '../project/types.js';
import { Runtime } from '../runtime/runtime.js';
import type { Clock } from '../domain/clock.js';
import { createLogger } from './logger.js';
import { ensureTls } from './tls.js';
import { extensions } from './extensions.js';
import { checkPortFree, lockDataDir } from './instance-lock.js';
import { registerBuiltIns } from './built-ins.js';

export interface RunningServer {
  app: FastifyInstance;
  runtime: Runtime;
  /** e.g. https://127.0.0.1:8443 */
  url: string;
  port: number;
  /** PEM of the server certificate (tests trust it). */
  certificate: string | undefined;
  fingerprint: string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
  print?: (line: string) => void;
  project?: Project;
  /** With `project`: the file it was read from, which reloads re-read. Without `project`, the configured file. */
  projectFile?: string | undefined;
}

/**
 * Loads the project, starts the runtime and serves the API. Throws ProjectError for an invalid project, and
 * StartupError when the port is taken or another instance holds the data directory: both are checked before
 * anything has a side effect (database, drivers, the admin and its printed password).
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  registerBuiltIns();
  await checkPortFree(config.host, config.port);
  // Reading the project only reads (its cache is written seconds later); an invalid file creates nothing.
  const projectFile = opts.project ? opts.projectFile : (config.project ?? DEMO_PROJECT_FILE);
  const project = opts.project ?? loadProjectFile(config.project ?? DEMO_PROJECT_FILE, { cacheDir: join(config.dataDir, 'cache') });
  const lock = lockDataDir(config.dataDir);
  try {
    return await startLocked(config, opts, project, projectFile, lock.release);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(
  config: Config,
  opts: StartOptions,
  project: Project,
  projectFile: string | undefined,
  releaseLock: () => void,
): Promise<RunningServer> {
  const print = opts.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const logger = opts.logger ?? createLogger(config.logLevel);
  const tls = config.http ? undefined : await ensureTls(config.dataDir, config.tlsCert, config.tlsKey);
  const runtime = new Runtime({ config, project, logger, clock: opts.clock, print, projectFile });
  let ext: Awaited<ReturnType<typeof extensions>>;
  try {
    ext = await extensions(runtime);
    await runtime.start();
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  const appOptions: AppOptions = { https: tls, authenticators: ext.authenticators, plugins: ext.plugins };
  let app: FastifyInstance;
  try {
    app = await buildApp(runtime, appOptions);
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await runtime.stop();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost =
    config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${config.http ? 'http' : 'https'}://${shownHost}:${port}`;
  if (config.http) print(`WARNING: serving plain HTTP; passwords and tokens cross the network unencrypted. Use HTTPS outside a lab.`);
  if (tls) print(`TLS certificate ${tls.generated ? 'generated' : 'loaded'}: ${tls.certFile}\n  SHA-256 fingerprint ${tls.fingerprint}`);
  print(
    `Tagway serving project '${project.name}' (${runtime.tags.size} tags) on ${url}  — API docs at ${url}${config.basePath === '/' ? '' : config.basePath}/docs`,
  );
  let stopped: Promise<void> | undefined;
  return {
    app,
    runtime,
    url,
    port,
    certificate: tls?.cert,
    fingerprint: tls?.fingerprint,
    stop: () => {
      stopped ??= (async () => {
        try {
          await app.close();
          await runtime.stop();
        } finally {
          releaseLock();
        }
      })();
      return stopped;
    },
  };
}
