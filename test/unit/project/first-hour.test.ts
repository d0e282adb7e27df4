import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEMO_PROJECT_FILE, parseProject } from '../../../src/project/load.js';
import { ProjectError, type ProjectProblem } from '../../../src/project/problems.js';
import { closest, editDistance } from '../../../src/domain/suggest.js';

/** The problems of an invalid project (fails the test if the project is valid). */
function problemsOf(text: string): ProjectProblem[] {
  try {
    parseProject(text, 'p.yaml');
  } catch (err) {
    if (err instanceof ProjectError) return err.problems;
    throw err;
  }
  throw new Error('expected the project to be invalid');
}
const messages = (text: string) => problemsOf(text).map((p) => `${p.path}: ${p.message}`);

const DEMO = readFileSync(DEMO_PROJECT_FILE, 'utf8');

describe('edit distance and suggestions', () => {
  it('counts insertions, deletions, substitutions and a swap of neighbours as one edit each', () => {
    expect(editDistance('port', 'port')).toBe(0);
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('adress', 'address')).toBe(1);
    expect(editDistance('Int17', 'Int16')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only a close candidate, and nothing for an exact match or an unrelated word', () => {
    expect(closest('modbs-tcp', ['simulator', 'internal', 'modbus-tcp', 's7'])).toBe('modbus-tcp');
    expect(closest('float32', ['Float32', 'Float64'])).toBe('Float32');
    expect(closest('profibus', ['simulator', 'internal', 'modbus-tcp', 's7'])).toBeUndefined();
    expect(closest('s7', ['s7', 'mqtt'])).toBeUndefined();
  });
});

describe('tagway check reports every independent problem once', () => {
  it('a driver typo in the demo plant is one problem, not one per tag of that connection', () => {
    const text = DEMO.replace('driver: simulator', 'driver: simulater');
    expect(messages(text)).toEqual([
      "/connections/0/driver: unknown driver 'simulater'; did you mean 'simulator'? (known drivers: internal, modbus-tcp, mqtt, opcua, s7, simulator)",
    ]);
  });

  it('a schema problem does not hide a later, independent driver typo and a dangling reference', () => {
    const text = DEMO.replace('driver: internal', 'driver: internl').replace(
      'name: Tank1.Level, type: Float64, unit: "%",',
      'name: Tank1.Level, type: Float64, unit: "%", colour: red,',
    );
    const ms = messages(text);
    expect(ms).toEqual([
      "/connections/1/driver: unknown driver 'internl'; did you mean 'internal'? (known drivers: internal, modbus-tcp, mqtt, opcua, s7, simulator)",
      "/tags/0/colour: unknown key 'colour'",
    ]);
  });

  it('a wrong tag type is one problem: no follow-ons for its limits, initial value, simulation or alarms', () => {
    const text = DEMO.replace('name: Tank1.Level, type: Float64,', 'name: Tank1.Level, type: Flaot64,');
    expect(DEMO).toMatch(/tag: Tank1\.Level\b/); // an alarm watches this tag, so a cascade would show there
    expect(messages(text)).toEqual([
      `/tags/0/type: must be one of "Bool", "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "Float32", "Float64", "String", "DateTime"; did you mean 'Float64'?`,
    ]);
  });

  it('a missing key is reported at its entry, and the rest of that entry is still checked', () => {
    const text = `name: P
connections: [{ name: plc1, driver: internal }]
tags:
  - { name: A, connection: plc1 }
  - { name: B, type: Int16, connection: plc2 }
  - { name: A, type: Int16, connection: plc1 }
`;
    expect(messages(text)).toEqual([
      "/tags/0: missing required key 'type'",
      "/tags/1/connection: no connection named 'plc2'; did you mean 'plc1'?",
      "/tags/2/name: duplicate tag name 'A'",
    ]);
  });

  it('suggests the nearest key, connection, group, alarm class and alarm tag', () => {
    const text = `name: P
connections: [{ name: line1, driver: internal }]
tags:
  - { name: Tank.Level, type: Float64, connection: line1, initail: 5 }
  - { name: Tank.Temp, type: Float64, connection: lin1 }
alarms:
  - { name: High, number: 1, class: Warnnig, priority: 5, tag: Tank.Levl, limit: { type: H, value: 90 }, text: high }
groups:
  - { name: operators, permissions: [{ permission: "tags:read" }] }
users:
  - { username: anna, password: x, groups: [operator] }
`;
    expect(messages(text)).toEqual([
      "/tags/0/initail: unknown key 'initail'; did you mean 'initial'?",
      "/tags/1/connection: no connection named 'lin1'; did you mean 'line1'?",
      "/alarms/0/class: Unknown alarm class 'Warnnig'; did you mean 'Warning'?",
      "/alarms/0/tag: No tag named 'Tank.Levl'; did you mean 'Tank.Level'?",
      "/users/0/groups/0: no group named 'operator'; did you mean 'operators'?",
    ]);
  });

  it('an alarm with a schema problem does not hide the cross-check problems of the others, nor cause its own', () => {
    const text = `name: P
connections: [{ name: plc1, driver: internal }]
tags:
  - { name: Tank.Level, type: Float64, connection: plc1 }
alarmClasses:
  - { name: Critical, stateMachine: RAISE_CLEAR_WHATEVER }
alarms:
  - { name: A1, number: 1, class: Warning, priority: 99, tag: No.Such.Tag, limit: { type: H, value: 90 }, text: a }
  - { name: A2, number: 2, class: Warning, priority: 5, tag: Tank.Levl, limit: { type: H, value: 90 }, text: b }
  - { name: A3, number: 3, class: Critical, priority: 5, tag: Tank.Level, limit: { type: H, value: 95 }, text: c }
`;
    const ms = messages(text);
    expect(ms.filter((m) => m.startsWith('/alarmClasses/0/stateMachine: must be one of'))).toHaveLength(1);
    expect(ms.filter((m) => !m.startsWith('/alarmClasses/0/stateMachine: must be one of'))).toEqual([
      '/alarms/0/priority: must be <= 16',
      "/alarms/1/tag: No tag named 'Tank.Levl'; did you mean 'Tank.Level'?",
    ]);
  });
});
