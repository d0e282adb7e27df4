import { buildSchema, executeSync, getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { UNIFIED_SDL } from '../../../../src/adapters/http/wincc-unified/schema.js';
import { projection } from '../../../../src/adapters/http/wincc-unified/subscriptions.js';

const schema = buildSchema(UNIFIED_SDL);
for (const [name, f] of Object.entries(schema.getSubscriptionType()!.getFields()))
  f.resolve = (root: Record<string, unknown>) => root[name];

const notification = {
  name: 'HMI_Tag_1',
  value: {
    value: 4.5,
    timestamp: '2026-01-01T00:00:00.000Z',
    quality: { quality: 'GOOD_CASCADE', subStatus: 'NON_SPECIFIC', limit: 'OK' },
  },
  error: { code: '0', description: 'Success' },
  notificationReason: 'Added',
};
const alarm = { name: 'A', instanceID: 3, eventText: ['x', 'y'], state: 'RAISED', valueQuality: null, notificationReason: 'Modified' };

describe('subscription projection (what execute() would answer, without executing per notification)', () => {
  it.each([
    [
      'subscription { tagValues(names: ["a"]) { name value { value quality { quality } } notificationReason } }',
      { tagValues: notification },
    ],
    [
      'subscription S { t: tagValues(names: ["a"]) { n: name ...V error { code } } } fragment V on TagValueNotification { value { timestamp } value { value } }',
      { tagValues: notification },
    ],
    [
      'subscription { tagValues(names: ["a"]) { ... on TagValueNotification { name } error { description } } }',
      { tagValues: notification },
    ],
    ['subscription { tagValues(names: ["a"]) { name value { value } } }', { tagValues: { ...notification, value: null } }],
    [
      'subscription { activeAlarms { name instanceID eventText valueQuality { quality } invalidFlags { invalidTimestamp } notificationReason } }',
      { activeAlarms: alarm },
    ],
  ])('%s', (query, root) => {
    const doc = parse(query);
    const project = projection(doc, getOperationAST(doc)!);
    expect(project).toBeDefined();
    expect(project!(root)).toEqual(executeSync({ schema, document: doc, rootValue: root }).data);
    expect(JSON.stringify(project!(root))).toBe(JSON.stringify(executeSync({ schema, document: doc, rootValue: root }).data));
  });

  it('leaves directives and __typename to execute()', () => {
    for (const q of [
      'subscription ($x: Boolean!) { tagValues(names: ["a"]) { name @include(if: $x) } }',
      'subscription { tagValues(names: ["a"]) { __typename name } }',
    ]) {
      const doc = parse(q);
      expect(projection(doc, getOperationAST(doc)!)).toBeUndefined();
    }
  });
});
