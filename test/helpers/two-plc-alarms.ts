import type { AlarmDefinition } from '../../src/domain/alarms/definition.js';
import type { TagDefinition } from '../../src/domain/tag-definition.js';

/**
 * The smallest plant where alarm ownership matters: two connections with one level tag and one high-level alarm
 * each, so a test can move one connection's lease and watch the other stay put. Shared by the cluster alarm tests.
 */
export const TWO_PLC_TAGS: TagDefinition[] = [
  { name: 'A.Level', type: 'Float64', access: 'readwrite', connection: 'plc1' },
  { name: 'B.Level', type: 'Float64', access: 'readwrite', connection: 'plc2' },
];
export const TWO_PLC_ALARMS: AlarmDefinition[] = [
  {
    name: 'A.High',
    number: 1,
    class: 'Alarm',
    priority: 8,
    tag: 'A.Level',
    kind: 'analog',
    limit: { type: 'H', value: 80 },
    text: 'A high',
  },
  {
    name: 'B.High',
    number: 2,
    class: 'Alarm',
    priority: 8,
    tag: 'B.Level',
    kind: 'analog',
    limit: { type: 'H', value: 80 },
    text: 'B high',
  },
];
