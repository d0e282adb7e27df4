import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import {
  AlarmClassSchema,
  AlarmDefinitionSchema,
  toAlarmDefinition,
  validateAlarms,
  type AlarmDefinitionEntry,
} from '../../../src/project/schema/alarms.js';

const tags = [
  { name: 'Tank1.Level', type: 'Float32' as const },
  { name: 'Pump1.Running', type: 'Bool' as const },
  { name: 'Pump1.Status', type: 'UInt16' as const },
  { name: 'Line1.Product', type: 'String' as const },
];
const a = (over: Partial<AlarmDefinitionEntry>): AlarmDefinitionEntry => ({
  name: 'A',
  number: 1,
  class: 'Alarm',
  priority: 5,
  tag: 'Pump1.Running',
  text: 'x',
  ...over,
});

describe('alarm schemas', () => {
  const def = Compile(AlarmDefinitionSchema);
  const cls = Compile(AlarmClassSchema);
  it('accepts a full analog and a discrete definition', () => {
    expect(
      def.Check(a({ tag: 'Tank1.Level', limit: { type: 'H', value: 90 }, hysteresis: 1, onDelayMs: 500, offDelayMs: 0, enabled: false })),
    ).toBe(true);
    expect(def.Check(a({ kind: 'discrete', bit: 3, tag: 'Pump1.Status' }))).toBe(true);
  });
  it('refuses unknown keys, bad priorities and limit types', () => {
    expect(def.Check({ ...a({}), hysterisis: 1 })).toBe(false);
    expect(def.Check(a({ priority: 17 }))).toBe(false);
    expect(def.Check(a({ limit: { type: 'HHH' as 'H', value: 1 } }))).toBe(false);
    expect(def.Check(a({ number: 0 }))).toBe(false);
    expect(cls.Check({ name: 'X', stateMachine: 'RAISE_CLEAR', colour: 'red' })).toBe(false);
    expect(cls.Check({ name: 'X', stateMachine: 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET', color: '#aabbcc' })).toBe(true);
  });
});

describe('validateAlarms', () => {
  it('is silent for a good project', () => {
    expect(
      validateAlarms({
        tags,
        alarms: [
          a({}),
          a({ name: 'B', number: 2, tag: 'Tank1.Level', limit: { type: 'LL', value: 5 }, class: 'Mine' }),
          a({ name: 'C', number: 3, tag: 'Pump1.Status', bit: 15 }),
        ],
        alarmClasses: [{ name: 'Mine', stateMachine: 'RAISE_CLEAR' }],
      }),
    ).toEqual([]);
  });
  it('names each problem by JSON pointer', () => {
    const issues = validateAlarms({
      tags,
      alarms: [
        a({ tag: 'Nope' }),
        a({ name: 'A', number: 1, class: 'Nope' }),
        a({ name: 'C', number: 3, tag: 'Tank1.Level', bit: 2 }),
        a({ name: 'D', number: 4, tag: 'Line1.Product', limit: { type: 'H', value: 1 } }),
        a({ name: 'E', number: 5, tag: 'Pump1.Status', bit: 16 }),
        a({ name: 'F', number: 6, kind: 'analog' }),
        a({ name: 'System.ConnectionLost.x', number: 7 }),
      ],
      alarmClasses: [
        { name: 'K', stateMachine: 'RAISE_CLEAR' },
        { name: 'K', stateMachine: 'RAISE_CLEAR' },
      ],
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/alarmClasses/1/name',
        '/alarms/0/tag',
        '/alarms/1/name',
        '/alarms/1/number',
        '/alarms/1/class',
        '/alarms/2/bit',
        '/alarms/3/limit',
        '/alarms/4/bit',
        '/alarms/5/limit',
        '/alarms/6/name',
      ]),
    );
    expect(issues.find((i) => i.path === '/alarms/0/tag')!.message).toContain("No tag named 'Nope'");
  });
  it('turns entries into domain definitions, inferring the kind', () => {
    expect(toAlarmDefinition(a({ tag: 'Tank1.Level', limit: { type: 'H', value: 90 } }))).toMatchObject({ kind: 'analog', enabled: true });
    expect(toAlarmDefinition(a({ bit: 1 }))).toMatchObject({ kind: 'discrete', bit: 1 });
  });
});

describe('alarm sections in the project loader', () => {
  it('reports schema and cross-check problems with line numbers', async () => {
    const { parseProject } = await import('../../../src/project/load.js');
    const yaml = [
      'name: P',
      'connections: [{ name: internal, driver: internal }]',
      'tags:',
      '  - { name: A, type: Bool, connection: internal }',
      'alarms:',
      '  - { name: X, number: 1, class: Alarm, priority: 5, tag: A, text: x }',
      '  - { name: Y, number: 1, class: Alarm, priority: 5, tag: Missing, text: y }',
      '',
    ].join('\n');
    let problems: { line: number; path: string; message: string }[] = [];
    try {
      parseProject(yaml);
    } catch (e) {
      problems = (e as { problems: typeof problems }).problems;
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 7, path: '/alarms/1/number' }),
        expect.objectContaining({ line: 7, path: '/alarms/1/tag', message: "No tag named 'Missing'" }),
      ]),
    );
    try {
      parseProject(yaml.replace('text: x }', 'text: x, hysterisis: 1 }'));
    } catch (e) {
      problems = (e as { problems: typeof problems }).problems;
    }
    // An unknown key no longer hides the cross-checks: one run reports every independent problem.
    expect(problems).toEqual([
      expect.objectContaining({ line: 6, path: '/alarms/0/hysterisis', message: "unknown key 'hysterisis'; did you mean 'hysteresis'?" }),
      expect.objectContaining({ line: 7, path: '/alarms/1/number' }),
      expect.objectContaining({ line: 7, path: '/alarms/1/tag', message: "No tag named 'Missing'" }),
    ]);
    expect(
      parseProject(yaml.replace('number: 1, class: Alarm, priority: 5, tag: Missing', 'number: 2, class: Alarm, priority: 5, tag: A')).raw
        .alarms,
    ).toHaveLength(2);
  });
});

describe('demo plant alarms', () => {
  it('has at least 10 alarms of every kind, on writable internal tags and one on a simulated tag', async () => {
    const { alarmsOfProject } = await import('../../../src/project/alarms.js');
    const { loadProjectFile, DEMO_PROJECT_FILE } = await import('../../../src/project/load.js');
    const project = loadProjectFile(DEMO_PROJECT_FILE);
    const { definitions, classes } = alarmsOfProject(project);
    const tagOf = (name: string) => project.tags.find((t) => t.name === name)!;
    expect(definitions.length).toBeGreaterThanOrEqual(10);
    expect(new Set(definitions.map((d) => d.kind))).toEqual(new Set(['discrete', 'analog']));
    expect(definitions.some((d) => d.kind === 'discrete' && d.bit !== undefined)).toBe(true);
    const byClass = (c: string) =>
      definitions.filter((d) => d.class === c && tagOf(d.tag).connection === 'internal' && tagOf(d.tag).access === 'readwrite');
    expect(byClass('Alarm').length).toBeGreaterThan(0);
    expect(byClass('Warning').length).toBeGreaterThan(0);
    expect(classes.find((c) => c.name === 'Alarm')!.stateMachine).toBe('RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT');
    expect(classes.find((c) => c.name === 'Warning')!.stateMachine).toBe('RAISE_CLEAR');
    const jam = definitions.find((d) => d.tag === 'Line1.Conveyor.Jam')!;
    expect(tagOf(jam.tag).simulation).toMatchObject({ kind: 'square', periodMs: 60_000 });
  });
});
