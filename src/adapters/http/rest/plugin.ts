import type { FastifyPluginAsync } from 'fastify';
import type { Runtime } from '../../../runtime/runtime.js';
import type { Services } from '../../../services/services.js';

/** Every resource's routes are a plugin that receives the runtime; nothing else is shared between them. */
export interface ApiOptions {
  runtime: Runtime;
  /** The service layer: every rule (permission, budget, audit) a route needs lives there. */
  services: Services;
}
export type ApiPlugin = FastifyPluginAsync<ApiOptions>;
