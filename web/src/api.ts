import { LiveClient, TagwayClient } from '../../client/src/index.js';

/** The API's base path, told by the server in a meta tag (empty at the root). */
export const BASE = document.querySelector('meta[name="tagway-base"]')?.getAttribute('content') ?? '';

/**
 * One client for the page: the HttpOnly session cookie authenticates, the CSRF token lives in memory only (never in
 * web storage), and the live socket authenticates with the cookie on its upgrade.
 */
export const client = new TagwayClient({ baseUrl: BASE, auth: 'cookie' });
export const live = new LiveClient({ backoff: { initialMs: 500, maxMs: 10_000 } });
