import { TagwayError, type FieldError } from '../../../../domain/problems.js';
import type { AlarmFilterSpec } from '../../../../runtime/push/alarm-filter.js';
import type { TagSubscriptionSpec } from '../../../../runtime/push/subscription.js';

/** Client → server messages of the WebSocket protocol (api.md, Push details). */
export type ClientMessage =
  | { type: 'auth'; token: string }
  | { type: 'subscribe'; id: string; spec: TagSubscriptionSpec }
  | { type: 'subscribeAlarms'; id: string; filter: AlarmFilterSpec }
  | { type: 'unsubscribe'; id: string }
  | { type: 'write'; id: string; items: Array<{ name: string; value: unknown }> };

export const MAX_WRITE_ITEMS = 10_000;

/** The `id` of a message, if it has a usable one, so that an error answer can name it. */
export function messageId(raw: unknown): string | undefined {
  if (typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string') return (raw as { id: string }).id;
  return undefined;
}

function fail(errors: FieldError[]): never {
  throw new TagwayError('VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
}

/** Parses and checks one text frame; throws TagwayError VALIDATION_FAILED (also for malformed JSON, as the REST API does). */
export function parseClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TagwayError('VALIDATION_FAILED', `Malformed JSON: ${(e as Error).message}`, {
      errors: [{ field: 'message', message: 'is not valid JSON' }],
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new TagwayError('VALIDATION_FAILED', 'A message must be a JSON object with a "type"', {
      errors: [{ field: 'type', message: 'required' }],
    });
  const m = raw as Record<string, unknown>;
  const errors: FieldError[] = [];
  const str = (f: string) => {
    if (typeof m[f] !== 'string' || (m[f] as string).length === 0) errors.push({ field: f, message: 'must be a non-empty string' });
  };
  const num = (f: string) => {
    if (m[f] !== undefined && typeof m[f] !== 'number') errors.push({ field: f, message: 'must be a number' });
  };
  const optStr = (f: string) => {
    if (m[f] !== undefined && typeof m[f] !== 'string') errors.push({ field: f, message: 'must be a string' });
  };
  switch (m.type) {
    case 'auth':
      str('token');
      if (errors.length) fail(errors);
      return { type: 'auth', token: m.token as string };
    case 'subscribe': {
      str('id');
      const tags = typeof m.tags === 'string' ? [m.tags] : m.tags;
      if (!Array.isArray(tags) || tags.length === 0 || !tags.every((t) => typeof t === 'string' && t.length > 0)) {
        errors.push({ field: 'tags', message: 'must be a non-empty list of tag names or globs' });
      }
      num('deadband');
      num('deadbandPercent');
      num('minIntervalMs');
      if (errors.length) fail(errors);
      return {
        type: 'subscribe',
        id: m.id as string,
        spec: {
          tags: tags as string[],
          deadband: m.deadband as number | undefined,
          deadbandPercent: m.deadbandPercent as number | undefined,
          minIntervalMs: m.minIntervalMs as number | undefined,
        },
      };
    }
    case 'subscribeAlarms':
      str('id');
      for (const f of ['class', 'tag', 'alarm', 'state', 'event']) optStr(f);
      num('minPriority');
      num('maxPriority');
      if (errors.length) fail(errors);
      return {
        type: 'subscribeAlarms',
        id: m.id as string,
        filter: {
          class: m.class as string | undefined,
          tag: m.tag as string | undefined,
          alarm: m.alarm as string | undefined,
          state: m.state as string | undefined,
          event: m.event as string | undefined,
          minPriority: m.minPriority as number | undefined,
          maxPriority: m.maxPriority as number | undefined,
        },
      };
    case 'unsubscribe':
      str('id');
      if (errors.length) fail(errors);
      return { type: 'unsubscribe', id: m.id as string };
    case 'write': {
      str('id');
      const items = m.items;
      if (!Array.isArray(items) || items.length === 0)
        errors.push({ field: 'items', message: 'must be a non-empty list of {name, value}' });
      else {
        if (items.length > MAX_WRITE_ITEMS) throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${MAX_WRITE_ITEMS} items per write`);
        items.forEach((it, i) => {
          if (typeof it !== 'object' || it === null || typeof (it as { name?: unknown }).name !== 'string')
            errors.push({ field: `items[${i}].name`, message: 'must be a string' });
          else if (!('value' in it)) errors.push({ field: `items[${i}].value`, message: 'required' });
        });
      }
      if (errors.length) fail(errors);
      return { type: 'write', id: m.id as string, items: items as Array<{ name: string; value: unknown }> };
    }
    default:
      throw new TagwayError(
        'VALIDATION_FAILED',
        `Unknown message type ${JSON.stringify(m.type)}; expected auth, subscribe, subscribeAlarms, unsubscribe or write`,
        { errors: [{ field: 'type', message: 'unknown' }] },
      );
  }
}
