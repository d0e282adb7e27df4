import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_FILE, loadProjectFile, parseProject } from '../../../src/project/load.js';
import { formatProblem, ProjectError, type ProjectProblem } from '../../../src/project/problems.js';
import { TAG_TYPES } from '../../../src/domain/tag-types.js';
import { FIXTURE_PROJECT } from '../../helpers/server.js';

/** The problems of an invalid project (fails the test if the project is valid). */
function problemsOf(text: string, file = 'p.yaml'): ProjectProblem[] {
  try {
    parseProject(text, file);
  } catch (err) {
    if (err instanceof ProjectError) return err.problems;
    throw err;
  }
  throw new Error('expected the project to be invalid');
}

/** 1-based line and column of the n-th (0-based) occurrence of `needle` in `text`. */
function pos(text: string, needle: string, nth = 0): { line: number; column: number } {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`'${needle}' (#${nth}) not in the test text`);
  }
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** Exactly one problem, with this message and position. */
function expectOne(text: string, message: string | RegExp, at: { line: number; column: number }): ProjectProblem {
  const ps = problemsOf(text);
  expect(ps.map((p) => `${p.line}:${p.column} ${p.message}`)).toHaveLength(1);
  const p = ps[0]!;
  if (typeof message === 'string') expect(p.message).toBe(message);
  else expect(p.message).toMatch(message);
  expect({ line: p.line, column: p.column }).toEqual(at);
  return p;
}

const HEAD = `name: Test
connections:
  - name: sim
    driver: simulator
  - name: internal
    driver: internal
tags:
`;
const project = (tags: string, tail = '') => HEAD + tags + tail;

describe('valid projects', () => {
  it('loads the demo plant', () => {
    const p = loadProjectFile(DEMO_PROJECT_FILE);
    expect(p.name).toBe('Demo bottling line');
    expect(p.connections.map((c) => c.driver).sort()).toEqual(['internal', 'simulator']);
    expect(p.tags.length).toBeGreaterThan(40);
    // Every type is present in the demo.
    expect(new Set(p.tags.map((t) => t.type))).toEqual(new Set(TAG_TYPES));
    expect(new Set(p.tags.map((t) => t.name)).size).toBe(p.tags.length);
    expect(p.groups.map((g) => g.name).sort()).toEqual(['admins', 'operators', 'viewers']);
    const setpoint = p.tags.find((t) => t.name === 'Tank1.LevelSetpoint')!;
    expect(setpoint).toMatchObject({ access: 'readwrite', initial: 75, min: 0, max: 100 });
    // Internal tags default to readwrite unless the file says read; simulated ones are read.
    expect(p.tags.find((t) => t.name === 'Line1.Filler.SerialNumber')!.access).toBe('read');
    expect(p.tags.find((t) => t.name === 'Tank1.Level')!.access).toBe('read');
    // 64-bit initial values keep their decimal-string wire form.
    expect(p.tags.find((t) => t.name === 'Line1.LotNumber')!.initial).toBe('18446744073709551000');
  });

  it('loads the test fixture with defaults filled in', () => {
    const p = loadProjectFile(FIXTURE_PROJECT);
    expect(p.tags).toHaveLength(20);
    expect(p.users.map((u) => u.username)).toEqual(['operator', 'viewer', 'outsider']);
    // The built-in admins group exists although the fixture does not define it.
    expect(p.groups.map((g) => g.name).sort()).toEqual(['admins', 'nobody', 'operators', 'viewers']);
    expect(p.tags.find((t) => t.name === 'Sim.Sine')!.simulation).toMatchObject({ kind: 'sine', cycleMs: 100 });
    expect(p.tags.find((t) => t.name === 'T.ReadOnly')!.access).toBe('read');
    expect(p.tags.find((t) => t.name === 'T.Bool')!.access).toBe('readwrite');
  });

  it('fills in the default cycle of 1000 ms and coerces initial values to their wire form', () => {
    const p = parseProject(
      project(`  - { name: S, type: Float64, connection: sim, simulation: { kind: sine } }
  - { name: I, type: Int64, connection: internal, initial: 5 }
  - { name: D, type: DateTime, connection: internal, initial: "2026-01-01T06:00:00Z" }
`),
    );
    expect(p.tags[0]!.simulation!.cycleMs).toBe(1000);
    expect(p.tags[1]!.initial).toBe('5');
    expect(p.tags[2]!.initial).toBe('2026-01-01T06:00:00.000Z');
  });
});

describe('problems are reported with message, line and column', () => {
  it('YAML syntax error', () => {
    const text = 'name: Test\nconnections:\n  - name: sim\n   driver: simulator\ntags: []\n';
    const p = expectOne(text, /^YAML: /, { line: 4, column: 1 });
    expect(p.message).toMatch(/indicator|indent/i);
  });

  it('a tab used for indentation', () => {
    const text = 'name: Test\nconnections: []\ntags:\n\t- a\n';
    const ps = problemsOf(text);
    expect(ps[0]).toMatchObject({ line: 4, column: 1, message: expect.stringMatching(/^YAML: .*tab/i) });
  });

  it('duplicate key names the key and points at its second occurrence', () => {
    const text = project('  - name: A\n    type: Int16\n    type: Int32\n    connection: internal\n');
    expectOne(text, "YAML: duplicate key 'type'", pos(text, 'type', 1));
    const top = 'name: A\nconnections: []\nname: B\ntags: []\n';
    expectOne(top, "YAML: duplicate key 'name'", { line: 3, column: 1 });
  });

  it('an alias without anchor and an unknown tag (which only the fast parser refuses)', () => {
    const alias = 'name: Test\nconnections: []\ntags: []\ndescription: *nothing\n';
    expectOne(alias, "YAML: alias '*nothing' refers to no anchor '&nothing' defined before it", pos(alias, '*nothing'));
    const tag = 'name: Test\nconnections: []\ntags: []\ndescription: !secret x\n';
    expectOne(tag, 'YAML: unknown tag: !secret', pos(tag, '!secret'));
  });

  it('more than one YAML document', () => {
    const text = 'name: Test\nconnections: []\ntags: []\n---\nname: Other\n';
    expectOne(text, /^YAML: a project file holds one YAML document/, { line: 4, column: 1 });
  });

  it('an empty file or one that is not a mapping', () => {
    expectOne('', 'the project file is empty; it must be a mapping with the keys name, connections and tags', { line: 1, column: 1 });
    expectOne('# nothing\n', /is empty/, { line: 1, column: 1 });
    expectOne('- a\n- b\n', /is a list; it must be a mapping/, { line: 1, column: 1 });
  });

  it('unknown key at top level', () => {
    const text = project('  []\n', 'colour: red\n');
    expectOne(text, "unknown key 'colour'", pos(text, 'colour'));
  });

  it('unknown key with a slash in it', () => {
    const text = project('  []\n', 'a/b: 1\n');
    const p = expectOne(text, "unknown key 'a/b'", pos(text, 'a/b'));
    expect(p.path).toBe('/a~1b');
  });

  it('unknown key in a tag (block and flow style)', () => {
    const block = project('  - name: A\n    type: Int16\n    connection: internal\n    colour: red\n');
    expectOne(block, "unknown key 'colour'", pos(block, 'colour'));
    const flow = project('  - { name: A, type: Int16, connection: internal, colour: red }\n');
    expectOne(flow, "unknown key 'colour'", pos(flow, 'colour'));
  });

  it('unknown key in a simulation', () => {
    const text = project('  - name: A\n    type: Int16\n    connection: sim\n    simulation:\n      kind: sine\n      speed: 3\n');
    expectOne(text, "unknown key 'speed'", pos(text, 'speed'));
  });

  it('unknown key in a connection of a built-in driver', () => {
    const text = 'name: Test\nconnections:\n  - name: sim\n    driver: simulator\n    host: 10.0.0.1\ntags: []\n';
    expectOne(text, "unknown key 'host' for driver 'simulator'", pos(text, 'host'));
  });

  it('wrong type enum', () => {
    const text = project('  - name: A\n    type: Int17\n    connection: internal\n');
    const p = expectOne(text, /^must be one of "Bool", "Int8", .*"DateTime"; did you mean 'Int16'\?$/, pos(text, 'type'));
    expect(p.path).toBe('/tags/0/type');
  });

  it('wrong enum of access and of simulation kind', () => {
    const access = project('  - { name: A, type: Int16, connection: internal, access: write }\n');
    expectOne(access, 'must be one of "read", "readwrite"', pos(access, 'access'));
    const kind = project('  - { name: A, type: Int16, connection: sim, simulation: { kind: wobble } }\n');
    expectOne(kind, /^must be one of "sine", "ramp", /, pos(kind, 'kind'));
  });

  it('a value of the wrong YAML type, including unions', () => {
    const unit = project('  - { name: A, type: Int16, connection: internal, unit: [m] }\n');
    expectOne(unit, 'must be a string', pos(unit, 'unit'));
    const min = project('  - { name: A, type: Int16, connection: internal, min: true }\n');
    expectOne(min, 'must be a number or a string', pos(min, 'min'));
    const initial = project('  - { name: A, type: Int16, connection: internal, initial: [1] }\n');
    expectOne(initial, 'must be true or false, a number or a string', pos(initial, 'initial'));
    const tags = 'name: Test\nconnections: []\ntags: 3\n';
    expectOne(tags, 'must be a list', pos(tags, 'tags'));
  });

  it('out-of-range simulation cycle', () => {
    const text = project('  - { name: A, type: Int16, connection: sim, simulation: { kind: sine, cycleMs: 10 } }\n');
    expectOne(text, /^must be >= 100/, pos(text, 'cycleMs'));
  });

  it('missing required key (points at the entry that lacks it)', () => {
    const text = project('  - name: A\n    connection: internal\n');
    const p = expectOne(text, "missing required key 'type'", pos(text, 'name: A'));
    expect(p.path).toBe('/tags/0');
    expectOne('connections: []\ntags: []\n', "missing required key 'name'", { line: 1, column: 1 });
  });

  it('duplicate tag name (at the second one)', () => {
    const text = project('  - { name: A, type: Int16, connection: internal }\n  - { name: A, type: Int32, connection: internal }\n');
    expectOne(text, "duplicate tag name 'A'", pos(text, 'name: A', 1));
  });

  it('unknown connection', () => {
    const text = project('  - { name: A, type: Int16, connection: plc9 }\n');
    expectOne(text, "no connection named 'plc9'", pos(text, 'connection: plc9'));
  });

  it('unknown driver', () => {
    const text = 'name: Test\nconnections:\n  - name: plc\n    driver: profibus\ntags: []\n';
    expectOne(text, "unknown driver 'profibus'; known drivers: internal, modbus-tcp, mqtt, opcua, s7, simulator", pos(text, 'driver'));
  });

  it('OPC UA and MQTT connection options are located and name the option', () => {
    const ua = 'name: Test\nconnections:\n  - name: ua\n    driver: opcua\n    endpointUrl: http://x\ntags: []\n';
    expectOne(ua, /^'endpointUrl' must be an opc\.tcp:\/\/ URL/, pos(ua, 'endpointUrl'));
    const mq = 'name: Test\nconnections:\n  - name: mq\n    driver: mqtt\n    url: mqtt://127.0.0.1\n    keepalivee: 5\ntags: []\n';
    expectOne(mq, "'keepalivee' is not an option of this driver; did you mean 'keepalive'?", pos(mq, 'keepalivee'));
  });

  it('Modbus and S7 connection and tag options are located and name the option, as OPC UA and MQTT ones are', () => {
    const conn = (driver: string, line: string, tags = 'tags: []\n') =>
      `name: Test\nconnections:\n  - name: plc\n    driver: ${driver}\n    host: 10.0.0.5\n    ${line}\n${tags}`;
    const port = conn('modbus-tcp', 'port: 70000');
    expectOne(port, "'port' must be an integer between 1 and 65535, got 70000", pos(port, 'port'));
    const order = conn('modbus-tcp', 'byteOrder: middle');
    expectOne(order, `'byteOrder' must be one of "big", "little", got "middle"`, pos(order, 'byteOrder'));
    const typo = conn('modbus-tcp', 'unitID: 3');
    expectOne(typo, "'unitID' is not an option of this driver; did you mean 'unitId'?", pos(typo, 'unitID'));
    const s7 = conn('s7', 'slots: 2');
    expectOne(s7, "'slots' is not an option of this driver; did you mean 'slot'?", pos(s7, 'slots'));
    const tag = conn(
      'modbus-tcp',
      'pollMs: 500',
      'tags:\n  - { name: A, type: Int16, connection: plc, address: "holding:0", options: { pollMs: 5 } }\n',
    );
    expectOne(tag, 'options.pollMs: must be an integer between 10 and 3600000, got 5', pos(tag, 'address'));
  });

  it('duplicate connection name', () => {
    const text = 'name: Test\nconnections:\n  - { name: a, driver: internal }\n  - { name: a, driver: simulator }\ntags: []\n';
    expectOne(text, "duplicate connection name 'a'", pos(text, 'name: a', 1));
  });

  it('simulation on a non-simulator connection', () => {
    const text = project('  - name: A\n    type: Int16\n    connection: internal\n    simulation: { kind: sine }\n');
    expectOne(text, "'simulation' needs a connection with driver 'simulator', 'internal' uses 'internal'", pos(text, 'simulation'));
  });

  it('simulator tag without simulation', () => {
    const text = project('  - name: A\n    type: Int16\n    connection: sim\n');
    expectOne(text, "a tag of a simulator connection needs 'simulation'", pos(text, 'name: A'));
  });

  it('simulation kinds that do not fit the tag type, and bounds the type cannot hold', () => {
    const text = project('  - { name: A, type: String, connection: sim, simulation: { kind: sine } }\n');
    expectOne(text, "simulation 'sine' needs a numeric or Bool tag, not String", pos(text, 'kind'));
    const clock = project('  - { name: A, type: Float64, connection: sim, simulation: { kind: clock } }\n');
    expectOne(clock, "simulation 'clock' needs a DateTime tag", pos(clock, 'kind'));
    const counter = project('  - { name: A, type: Int16, connection: sim, simulation: { kind: counter, max: 40000 } }\n');
    expectOne(counter, "simulation 'max' (40000) is outside the Int16 range -32768…32767", pos(counter, 'max'));
    const u64 = project('  - { name: A, type: UInt64, connection: sim, simulation: { kind: counter, min: -5 } }\n');
    expectOne(u64, "simulation 'min' (-5) is outside the UInt64 range 0…18446744073709551615", pos(u64, 'min'));
    const bounds = project('  - { name: A, type: Float64, connection: sim, simulation: { kind: sine, min: 5, max: 1 } }\n');
    expectOne(bounds, "simulation 'max' is below 'min'", pos(bounds, 'max'));
  });

  it('min/max on a non-numeric tag', () => {
    const text = project('  - name: A\n    type: String\n    connection: internal\n    min: 0\n');
    expectOne(text, "'min' applies to numeric tags only, not String", pos(text, 'min'));
    const b = project('  - { name: A, type: Bool, connection: internal, max: 1 }\n');
    expectOne(b, "'max' applies to numeric tags only, not Bool", pos(b, 'max'));
  });

  it('max below min', () => {
    const text = project('  - name: A\n    type: Int16\n    connection: internal\n    min: 10\n    max: 5\n');
    expectOne(text, "'max' (5) is below 'min' (10)", pos(text, 'max'));
    const big = project('  - { name: A, type: Int64, connection: internal, min: "9007199254740993", max: "9007199254740992" }\n');
    expectOne(big, "'max' (9007199254740992) is below 'min' (9007199254740993)", pos(big, 'max'));
  });

  it('min/max that are not numbers of the type', () => {
    const s = project('  - { name: A, type: Int16, connection: internal, min: "5" }\n');
    expectOne(s, "'min' must be a number", pos(s, 'min'));
    const f = project('  - { name: A, type: Int16, connection: internal, max: 1.5 }\n');
    expectOne(f, "'max' must be an integer for Int16", pos(f, 'max'));
    const r = project('  - { name: A, type: UInt8, connection: internal, max: 300 }\n');
    expectOne(r, /^'max': 300 is outside the UInt8 range/, pos(r, 'max'));
  });

  it('initial value that does not fit the type or the limits', () => {
    const s = project('  - name: A\n    type: Int16\n    connection: internal\n    initial: "12"\n');
    expectOne(s, 'initial value: Int16 expects an integer number, got the string "12"', pos(s, 'initial'));
    const big = project('  - name: A\n    type: Int16\n    connection: internal\n    initial: 40000\n');
    expectOne(big, 'initial value: 40000 is outside the Int16 range -32768…32767', pos(big, 'initial'));
    const frac = project('  - { name: A, type: Int16, connection: internal, initial: 1.5 }\n');
    expectOne(frac, /^initial value: Int16 expects an integer number, got the number 1.5/, pos(frac, 'initial'));
    const limit = project('  - { name: A, type: Int16, connection: internal, min: 0, max: 10, initial: 11 }\n');
    expectOne(limit, 'initial value: 11 is above the maximum 10', pos(limit, 'initial'));
    const yes = project('  - { name: A, type: Bool, connection: internal, initial: yes }\n');
    expectOne(yes, 'initial value: Bool expects true or false, got the string "yes"', pos(yes, 'initial'));
    const long = project('  - { name: A, type: String, connection: internal, maxLength: 2, initial: abc }\n');
    expectOne(long, /^initial value: the string is 3 characters long; at most 2/, pos(long, 'initial'));
  });

  it('maxLength on a non-String tag', () => {
    const text = project('  - name: A\n    type: Int16\n    connection: internal\n    maxLength: 3\n');
    expectOne(text, "'maxLength' applies to String tags only", pos(text, 'maxLength'));
  });

  it('history mode that needs an interval', () => {
    const text = project('  - name: A\n    type: Int16\n    connection: internal\n    history: { mode: cyclic }\n');
    expectOne(text, "history mode 'cyclic' needs 'intervalMs'", pos(text, 'history'));
  });

  it('user with an unknown group (at the group name)', () => {
    const text = project('  []\n', 'users:\n  - username: bob\n    password: secret\n    groups: [admins, ghosts]\n');
    expectOne(text, "no group named 'ghosts'", pos(text, 'ghosts'));
  });

  it('user with both password and passwordHash, or neither', () => {
    const both = project(
      '  []\n',
      'users:\n  - username: bob\n    password: secret\n    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$abc$def"\n    groups: [admins]\n',
    );
    expectOne(both, "give either 'password' or 'passwordHash', not both", pos(both, 'username'));
    const neither = project('  []\n', 'users:\n  - { username: bob, groups: [admins] }\n');
    expectOne(neither, "a user needs 'passwordHash' (or 'password' for demos)", pos(neither, '{ username'));
  });

  it('a passwordHash that is not argon2id, a bad username, a duplicate user', () => {
    const hash = project('  []\n', 'users:\n  - { username: bob, passwordHash: "secret", groups: [] }\n');
    expectOne(hash, /^must be an argon2id hash/, pos(hash, 'passwordHash'));
    const name = project('  []\n', 'users:\n  - { username: "bob smith", password: x, groups: [] }\n');
    expectOne(name, /^a username may contain letters, digits and _ \. @ -/, pos(name, 'username'));
    const dup = project(
      '  []\n',
      'users:\n  - { username: bob, password: x, groups: [] }\n  - { username: bob, password: y, groups: [] }\n',
    );
    expectOne(dup, "duplicate user 'bob'", pos(dup, 'username', 1));
  });

  it('group with an unknown permission, and a duplicate group', () => {
    const perm = project('  []\n', 'groups:\n  - name: g\n    permissions:\n      - permission: "tags:delete"\n');
    expectOne(perm, /^must be one of "tags:read", "tags:write", /, pos(perm, 'permission:'));
    const dup = project('  []\n', 'groups:\n  - { name: g, permissions: [] }\n  - { name: g, permissions: [] }\n');
    expectOne(dup, "duplicate group name 'g'", pos(dup, 'name: g', 1));
  });

  it('a permission glob over 1,024 characters (at its line)', () => {
    const long = project(
      '  []\n',
      `groups:\n  - name: g\n    permissions:\n      - { permission: "tags:read", tags: "${'L'.repeat(1_025)}*" }\n`,
    );
    expectOne(long, /has 1026 characters; at most 1024 are allowed/, pos(long, 'tags: "'));
  });

  it('tag names with forbidden characters', () => {
    for (const bad of ['"A*B"', '"A?"', '" Leading"', '"Trailing "', '"Tab\\tName"', '"Ümlaut"', `${'a'.repeat(257)}`]) {
      const text = project(`  - name: ${bad}\n    type: Int16\n    connection: internal\n`);
      expectOne(text, /^a tag name may contain letters, digits, spaces and _ \. - : \/ \[ \] #/, pos(text, `name: ${bad}`));
    }
    // The allowed characters, including an inner space and 256 characters, are fine.
    parseProject(
      project(
        `  - { name: "Line1/Filler Speed:rpm.[1]#a_b-c", type: Int16, connection: internal }\n  - { name: ${'a'.repeat(256)}, type: Int16, connection: internal }\n`,
      ),
    );
  });

  it('connection names must be identifiers', () => {
    const text = 'name: Test\nconnections:\n  - { name: 1plc, driver: internal }\ntags: []\n';
    expectOne(text, /^must start with a letter/, pos(text, 'name: 1plc'));
  });
});

describe('several problems at once', () => {
  it('reports every schema problem (not only the first few), sorted by line', () => {
    const tags = Array.from({ length: 12 }, (_, i) => `  - { name: T${i}, type: Int16, connection: internal, bogus${i}: 1 }\n`).join('');
    const text = project(tags, 'extra: 1\n');
    const ps = problemsOf(text);
    expect(ps.map((p) => p.message)).toEqual([...Array.from({ length: 12 }, (_, i) => `unknown key 'bogus${i}'`), "unknown key 'extra'"]);
    expect(ps.map((p) => p.line)).toEqual([...Array.from({ length: 12 }, (_, i) => pos(text, `bogus${i}`).line), pos(text, 'extra').line]);
  });

  it('reports every cross-check problem, sorted by line and column', () => {
    const text = project(
      `  - { name: A, type: Int16, connection: internal, initial: 40000 }
  - { name: B, type: String, connection: nowhere, min: 1 }
  - { name: A, type: Int16, connection: internal }
`,
      'users:\n  - { username: bob, password: x, groups: [ghosts] }\n',
    );
    const ps = problemsOf(text);
    expect(ps.map((p) => [p.line, p.column, p.message])).toEqual([
      [pos(text, 'initial').line, pos(text, 'initial').column, 'initial value: 40000 is outside the Int16 range -32768…32767'],
      [pos(text, 'connection: nowhere').line, pos(text, 'connection: nowhere').column, "no connection named 'nowhere'"],
      [pos(text, 'min: 1').line, pos(text, 'min: 1').column, "'min' applies to numeric tags only, not String"],
      [pos(text, 'name: A', 1).line, pos(text, 'name: A', 1).column, "duplicate tag name 'A'"],
      [pos(text, 'ghosts').line, pos(text, 'ghosts').column, "no group named 'ghosts'"],
    ]);
  });

  it('formats each problem as file:line:column: message (at path), and the error lists them all', () => {
    const text = project('  - { name: A, type: Int16, connection: internal, colour: red }\n');
    let error: ProjectError | undefined;
    try {
      parseProject(text, 'plant.yaml');
    } catch (e) {
      error = e as ProjectError;
    }
    expect(error).toBeInstanceOf(ProjectError);
    const { line, column } = pos(text, 'colour');
    expect(formatProblem(error!.problems[0]!)).toBe(`plant.yaml:${line}:${column}: unknown key 'colour' (at /tags/0/colour)`);
    expect(error!.message).toBe(`The project file has 1 problem:\nplant.yaml:${line}:${column}: unknown key 'colour' (at /tags/0/colour)`);
  });
});

describe('loadProjectFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagway-load-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file in every problem', () => {
    const file = join(dir, 'bad.yaml');
    const text = project('  - { name: A, type: Int16, connection: nowhere }\n');
    writeFileSync(file, text);
    expect(() => loadProjectFile(file)).toThrow(ProjectError);
    try {
      loadProjectFile(file);
    } catch (e) {
      expect((e as ProjectError).problems).toEqual([
        { file, ...pos(text, 'connection: nowhere'), path: '/tags/0/connection', message: "no connection named 'nowhere'" },
      ]);
    }
  });

  it('a missing file is one problem at 1:1', () => {
    const file = join(dir, 'missing.yaml');
    try {
      loadProjectFile(file);
      expect.unreachable();
    } catch (e) {
      expect((e as ProjectError).problems).toEqual([
        { file, line: 1, column: 1, path: '', message: expect.stringMatching(/^cannot read the file: ENOENT/) },
      ]);
    }
  });
});
