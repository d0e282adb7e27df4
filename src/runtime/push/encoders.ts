import type { PushEncoder } from './types.js';

/**
 * Message framing per transport. Both build the text by concatenating JSON that exists already (the engine's
 * cached value JSON, the alarm event serialised once for all clients): nothing is parsed or re-serialised per
 * client.
 */

/** WebSocket messages of api.md's Push details: `values`, `alarm`, `resync`. */
export const wsEncoder: PushEncoder = {
  values: (id, items) => {
    // Concatenation leaves a rope that the socket flattens once when it encodes the frame; join would copy twice.
    let s = `{"type":"values","id":${id},"items":[`;
    for (let i = 0; i < items.length; i++) s += i === 0 ? items[i] : ',' + items[i];
    return s + ']}';
  },
  alarm: (id, _eventId, json) => `{"type":"alarm","id":${id},"event":${json}}`,
  resync: (id) => `{"type":"resync","id":${id}}`,
};

/**
 * Server-Sent Events: one `value` event per value object, one `alarm` event per archive event with `id:` = its
 * eventId so that the browser's Last-Event-ID resumes. JSON never contains a raw newline, so one `data:` line
 * each is enough. There is no resync event: the hub ends the stream and the client's reconnect with
 * Last-Event-ID replays what it missed.
 */
export const sseEncoder: PushEncoder = {
  values: (_id, items) => {
    let s = '';
    for (const it of items) s += `event: value\ndata: ${it}\n\n`;
    return s;
  },
  alarm: (_id, eventId, json) => `id: ${eventId}\nevent: alarm\ndata: ${json}\n\n`,
  resync: () => undefined,
};
