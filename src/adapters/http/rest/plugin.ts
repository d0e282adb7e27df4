import type { FastifyPluginAsync } from 'fastify';
import type { Runtime } from '../../../runtime/runtime.js';

/** Every resource's routes are a plugin that receives the runtime; nothing else is shared between them. */
export interface ApiOptions {
  runtime: Runtime;
}
export type ApiPlugin = FastifyPluginAsync<ApiOptions>;
