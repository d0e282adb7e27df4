import type { FastifyPluginAsync } from 'fastify';
import type { Runtime } from '../../../runtime/runtime.js';
import type { Services } from '../../../services/services.js';
import type { JsonAnswer } from './direct-answer.js';

/** Every resource's routes are a plugin that receives the runtime; nothing else is shared between them. */
export interface ApiOptions {
  runtime: Runtime;
  /** The service layer: every rule (permission, budget, audit) a route needs lives there. */
  services: Services;
  /** A 200 JSON answer with the app's security headers, for routes declared with `config: { directAnswer: true }`. */
  answerJson: JsonAnswer;
}
export type ApiPlugin = FastifyPluginAsync<ApiOptions>;
