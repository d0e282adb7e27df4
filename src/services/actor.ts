import type { Principal } from '../auth/principal.js';

/** The front end an operation came through (for audit rows and logs). */
export type Via = 'rest' | 'ws' | 'sse' | 'cli' | 'graphql' | 'wincc-classic' | 'wincc-oa' | 'opcua' | 'mqtt' | 'system';

/**
 * Who asks a service to do something, and from where. Every service operation takes one: the service checks the
 * principal's permissions, and audit rows name the user, the client address and the front end.
 */
export interface Actor {
  principal: Principal;
  clientAddress: string;
  requestId?: string | undefined;
  via: Via;
}
