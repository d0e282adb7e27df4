import type { TagValue } from '../tag-types.js';

/**
 * Message texts with placeholders: `{value}`, `{unit}`, `{tag}`, `{limit}`; `{value:2}` rounds a number to two
 * decimals. Unknown placeholders are left as written, so a typo shows in the message instead of vanishing.
 */
export interface TextContext {
  value: TagValue | undefined;
  unit?: string | undefined;
  tag: string;
  limit?: number | undefined;
}

const PLACEHOLDER = /\{(value|unit|tag|limit)(?::(\d{1,2}))?\}/g;

function show(v: TagValue | number | undefined, decimals: string | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number' && decimals !== undefined) return v.toFixed(Number(decimals));
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(7)));
  return String(v);
}

export function formatText(template: string, ctx: TextContext): string {
  if (!template.includes('{')) return template;
  return template.replace(PLACEHOLDER, (_m, name: string, decimals: string | undefined) => {
    switch (name) {
      case 'value':
        return show(ctx.value, decimals);
      case 'unit':
        return ctx.unit ?? '';
      case 'tag':
        return ctx.tag;
      default:
        return show(ctx.limit, decimals);
    }
  });
}
