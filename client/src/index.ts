export { TagwayApiError, TagwayClient, type ClientOptions } from './http.js';
export { LiveClient, type LiveOptions, type LiveStatus, type LiveValue, type SocketLike } from './live.js';
export type * from './types.js';
