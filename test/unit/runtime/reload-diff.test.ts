import { describe, expect, it } from 'vitest';
import { parseProject } from '../../../src/project/load.js';
import { systemClock } from '../../../src/domain/clock.js';
import { diffProjects } from '../../../src/runtime/reload.js';
import { sameValue } from '../../../src/domain/same-value.js';
import { TagEngine } from '../../../src/runtime/tag-engine.js';

const BASE = {
  connections: `
  - { name: A, driver: modbus-tcp, host: 127.0.0.1, port: 5020 }
  - { name: B, driver: modbus-tcp, host: 127.0.0.1, port: 5021 }
  - { name: local, driver: internal }`,
  tags: `
  - { name: A.Value, type: Int16, connection: A, address: "holding:0" }
  - { name: B.Value, type: Int16, connection: B, address: "holding:0" }
  - { name: Local, type: Bool, connection: local }`,
  rest: `
groups:
  - { name: viewers, permissions: [{ permission: tags:read }] }
users:
  - { username: viewer, password: viewer-password, groups: [viewers] }`,
};

function project(p: Partial<typeof BASE> = {}) {
  const x = { ...BASE, ...p };
  return parseProject(`name: Diff test\nconnections:${x.connections}\ntags:${x.tags}\n${x.rest}\n`);
}

describe('diffProjects', () => {
  it('finds nothing to do in the same project', () => {
    const d = diffProjects(project(), project());
    expect(d).toEqual({ changed: [], added: [], removed: [], unchanged: ['A', 'B', 'local'], restartNeeded: [] });
  });

  it('marks a connection with new options as changed and leaves the others alone', () => {
    const d = diffProjects(project(), project({ connections: BASE.connections.replace('5020', '5099') }));
    expect(d.changed).toEqual(['A']);
    expect(d.unchanged).toEqual(['B', 'local']);
    expect(d.restartNeeded).toEqual([]);
  });

  it('counts any change to a connection definition, even its description', () => {
    const d = diffProjects(
      project(),
      project({
        connections: BASE.connections.replace(
          '{ name: local, driver: internal }',
          '{ name: local, driver: internal, description: Local values }',
        ),
      }),
    );
    expect(d.changed).toEqual(['local']);
  });

  it('restarts the connection of a tag whose address, options or scaling changed', () => {
    const d = diffProjects(
      project(),
      project({
        tags: BASE.tags.replace(
          '{ name: B.Value, type: Int16, connection: B, address: "holding:0" }',
          '{ name: B.Value, type: Int16, connection: B, address: "holding:5", scaling: { rawMin: 0, rawMax: 100, engMin: 0, engMax: 1 } }',
        ),
      }),
    );
    expect(d.changed).toEqual(['B']);
    expect(d.unchanged).toEqual(['A', 'local']);
    expect(d.restartNeeded).toEqual([]);
  });

  it('adds and removes connections without tags', () => {
    const d = diffProjects(project(), project({ connections: BASE.connections + '\n  - { name: C, driver: internal }' }));
    expect(d).toMatchObject({ added: ['C'], changed: [], restartNeeded: [] });
    const back = diffProjects(project({ connections: BASE.connections + '\n  - { name: C, driver: internal }' }), project());
    expect(back).toMatchObject({ removed: ['C'], changed: [], restartNeeded: [] });
  });

  it('lists every change that needs a restart', () => {
    const next = project({
      tags:
        BASE.tags.replace('type: Int16, connection: A', 'type: Int32, connection: A') +
        '\n  - { name: Extra, type: Bool, connection: local }',
      rest: BASE.rest.replace('viewer-password', 'another-password') + '\nalarms: []',
    });
    const d = diffProjects(project(), next);
    expect(d.restartNeeded.map((r) => r.message)).toEqual([
      'alarms changed',
      'users changed',
      "tag 'Extra' added",
      "tag 'A.Value': type changed",
    ]);
    expect(d.restartNeeded.map((r) => r.path)).toEqual(['/alarms', '/users', '/tags/Extra', '/tags/A.Value']);
  });

  it('needs a restart for a new northbound publisher section', () => {
    const d = diffProjects(project(), project({ rest: BASE.rest + '\nnorthbound:\n  mqtt: { url: "mqtt://127.0.0.1:1883" }' }));
    expect(d.restartNeeded).toEqual([
      { path: '/northbound', message: 'the northbound front ends (OPC UA server, MQTT publisher) changed' },
    ]);
  });

  it('refuses removed tags, a tag moved to another connection and reordered tags', () => {
    const removed = diffProjects(
      project(),
      project({ tags: BASE.tags.replace('\n  - { name: Local, type: Bool, connection: local }', '') }),
    );
    expect(removed.restartNeeded.map((r) => r.message)).toEqual(["tag 'Local' removed"]);
    const moved = diffProjects(project(), project({ tags: BASE.tags.replace('connection: B', 'connection: A') }));
    expect(moved.restartNeeded.map((r) => r.message)).toEqual(["tag 'B.Value': connection changed"]);
    const lines = BASE.tags.split('\n');
    const reordered = diffProjects(project(), project({ tags: [lines[0], lines[2], lines[1], lines[3]].join('\n') }));
    expect(reordered.restartNeeded.map((r) => r.message)).toEqual(['the order of the tags changed']);
  });

  it('compares values deeply, a missing key equal to undefined', () => {
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameValue({ a: [1, { c: 2n }] }, { a: [1, { c: 2n }] })).toBe(true);
    expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameValue(NaN, NaN)).toBe(true);
  });
});

describe('TagEngine.replaceDefinition', () => {
  it('takes a new address in place, keeping value and quality, and refuses other changes', () => {
    const p = project();
    const engine = new TagEngine(p.tags, systemClock);
    const tag = engine.require('A.Value');
    engine.update(tag.index, 42, 0xc0, 1000);
    const next = project({
      tags: BASE.tags.replace('address: "holding:0" }\n  - { name: B.Value', 'address: "holding:9" }\n  - { name: B.Value'),
    });
    const def = next.tags.find((t) => t.name === 'A.Value')!;
    expect(engine.replaceDefinition(def)).toBe(tag);
    expect(tag.def.address).toBe('holding:9');
    expect(tag).toMatchObject({ value: 42, quality: 0xc0, timestamp: 1000 });
    expect(() => engine.replaceDefinition({ ...def, type: 'Int32' })).toThrow(/'type' cannot change/);
  });
});
