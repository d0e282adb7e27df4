import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchGlob } from '../../../src/domain/glob.js';
import { PermissionSet, PERMISSIONS, type Grant, type Group, type Permission } from '../../../src/domain/permissions.js';

/** The demo groups of the API contract. */
const DEMO_GROUPS: ReadonlyMap<string, Group> = new Map<string, Group>([
  ['admins', { name: 'admins', permissions: PERMISSIONS.map((permission) => ({ permission })) }],
  [
    'operators',
    {
      name: 'operators',
      permissions: [
        { permission: 'tags:read' },
        { permission: 'tags:write', tags: 'Line1.**' },
        { permission: 'alarms:read' },
        { permission: 'alarms:acknowledge' },
        { permission: 'history:read' },
      ],
    },
  ],
  [
    'viewers',
    { name: 'viewers', permissions: [{ permission: 'tags:read' }, { permission: 'alarms:read' }, { permission: 'history:read' }] },
  ],
]);

describe('PermissionSet', () => {
  it('knows the permissions of the contract', () => {
    expect([...PERMISSIONS]).toEqual([
      'tags:read',
      'tags:write',
      'alarms:read',
      'alarms:acknowledge',
      'history:read',
      'users:admin',
      'audit:read',
      'exports:read',
      'exports:run',
    ]);
  });

  it('an empty set holds nothing', () => {
    const s = new PermissionSet([]);
    for (const p of PERMISSIONS) {
      expect(s.has(p)).toBe(false);
      expect(s.allows(p, 'Line1.Speed')).toBe(false);
    }
    expect(s.names()).toEqual([]);
  });

  it('an unscoped grant allows every tag', () => {
    const s = new PermissionSet([{ permission: 'tags:read' }]);
    expect(s.has('tags:read')).toBe(true);
    expect(s.allows('tags:read', 'Line1.Speed')).toBe(true);
    expect(s.allows('tags:read', 'Any/Thing [1]')).toBe(true);
    expect(s.allows('tags:write', 'Line1.Speed')).toBe(false);
    expect(s.has('tags:write')).toBe(false);
    expect(s.names()).toEqual(['tags:read']);
  });

  it('a scoped grant allows only matching tags, and counts for has()/names()', () => {
    const s = new PermissionSet([{ permission: 'tags:write', tags: 'Line1.*' }]);
    expect(s.has('tags:write')).toBe(true);
    expect(s.names()).toEqual(['tags:write']);
    expect(s.allows('tags:write', 'Line1.Speed')).toBe(true);
    expect(s.allows('tags:write', 'Line1.Filler.Speed')).toBe(false);
    expect(s.allows('tags:write', 'Line2.Speed')).toBe(false);
    expect(s.allows('tags:read', 'Line1.Speed')).toBe(false);
  });

  it('a scoped grant on an exact name allows that name only', () => {
    const s = new PermissionSet([{ permission: 'tags:write', tags: 'DB1[3].Value' }]);
    expect(s.allows('tags:write', 'DB1[3].Value')).toBe(true);
    expect(s.allows('tags:write', 'DB13.Value')).toBe(false);
  });

  it('`**` as scope is the same as no scope', () => {
    const s = new PermissionSet([{ permission: 'tags:read', tags: '**' }]);
    expect(s.allows('tags:read', 'x')).toBe(true);
    expect(s.allows('tags:read', 'a.b/c')).toBe(true);
  });

  it('several scoped grants of one permission are a union', () => {
    const s = new PermissionSet([
      { permission: 'tags:write', tags: 'Line1.**' },
      { permission: 'tags:write', tags: 'Tank?.Level' },
    ]);
    expect(s.allows('tags:write', 'Line1.A.B')).toBe(true);
    expect(s.allows('tags:write', 'Tank3.Level')).toBe(true);
    expect(s.allows('tags:write', 'Tank33.Level')).toBe(false);
    expect(s.allows('tags:write', 'Line2.A')).toBe(false);
  });

  it('an unscoped grant wins over a scoped one of the same permission', () => {
    const s = new PermissionSet([{ permission: 'tags:write', tags: 'Line1.**' }, { permission: 'tags:write' }]);
    expect(s.allows('tags:write', 'Line2.A')).toBe(true);
  });

  it('names() lists each permission once, in contract order', () => {
    const s = new PermissionSet([
      { permission: 'audit:read' },
      { permission: 'tags:read', tags: 'A.*' },
      { permission: 'tags:read', tags: 'B.*' },
      { permission: 'tags:read' },
      { permission: 'alarms:read' },
    ]);
    expect(s.names()).toEqual(['tags:read', 'alarms:read', 'audit:read']);
  });

  it('keeps the grants it was built from', () => {
    const grants: Grant[] = [{ permission: 'tags:read', tags: 'A.*' }];
    expect(new PermissionSet(grants).grants).toEqual([{ permission: 'tags:read', tags: 'A.*' }]);
  });
});

describe('PermissionSet.forGroups with the demo groups', () => {
  it('admins hold everything on every tag', () => {
    const s = PermissionSet.forGroups(['admins'], DEMO_GROUPS);
    expect(s.names()).toEqual([...PERMISSIONS]);
    for (const p of PERMISSIONS) expect(s.allows(p, 'Line2.Anything')).toBe(true);
  });

  it('operators read everything and write only below Line1', () => {
    const s = PermissionSet.forGroups(['operators'], DEMO_GROUPS);
    expect(s.names()).toEqual(['tags:read', 'tags:write', 'alarms:read', 'alarms:acknowledge', 'history:read']);
    expect(s.allows('tags:read', 'Line2.Speed')).toBe(true);
    expect(s.allows('tags:write', 'Line1.Speed')).toBe(true);
    expect(s.allows('tags:write', 'Line1.Filler.Speed')).toBe(true);
    expect(s.allows('tags:write', 'Line2.Speed')).toBe(false);
    expect(s.allows('tags:write', 'Line1')).toBe(false);
    expect(s.allows('tags:write', 'line1.Speed')).toBe(false);
    expect(s.has('users:admin')).toBe(false);
    expect(s.has('audit:read')).toBe(false);
  });

  it('viewers read but never write or acknowledge', () => {
    const s = PermissionSet.forGroups(['viewers'], DEMO_GROUPS);
    expect(s.names()).toEqual(['tags:read', 'alarms:read', 'history:read']);
    expect(s.allows('tags:read', 'Line1.Speed')).toBe(true);
    expect(s.allows('tags:write', 'Line1.Speed')).toBe(false);
    expect(s.has('alarms:acknowledge')).toBe(false);
  });

  it('the union of several groups holds the grants of each', () => {
    const extra: Group = {
      name: 'tank-writers',
      permissions: [{ permission: 'tags:write', tags: 'Tank*.Setpoint' }, { permission: 'audit:read' }],
    };
    const groups = new Map(DEMO_GROUPS).set('tank-writers', extra);
    const s = PermissionSet.forGroups(['viewers', 'tank-writers'], groups);
    expect(s.names()).toEqual(['tags:read', 'tags:write', 'alarms:read', 'history:read', 'audit:read']);
    expect(s.allows('tags:write', 'Tank1.Setpoint')).toBe(true);
    expect(s.allows('tags:write', 'Line1.Speed')).toBe(false);
    const t = PermissionSet.forGroups(['operators', 'tank-writers'], groups);
    expect(t.allows('tags:write', 'Line1.Speed')).toBe(true);
    expect(t.allows('tags:write', 'Tank2.Setpoint')).toBe(true);
    expect(t.allows('tags:write', 'Tank2.Level')).toBe(false);
  });

  it('unknown group names grant nothing', () => {
    expect(PermissionSet.forGroups(['nope'], DEMO_GROUPS).names()).toEqual([]);
    expect(PermissionSet.forGroups(['nope', 'viewers'], DEMO_GROUPS).names()).toEqual(['tags:read', 'alarms:read', 'history:read']);
  });
});

describe('PermissionSet properties', () => {
  const perm = fc.constantFrom(...PERMISSIONS);
  const seg = fc.constantFrom('Line1', 'Line2', 'Tank1', 'A', '*', '**', 'T?nk1');
  const glob = fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => s.join('.'));
  const grant: fc.Arbitrary<Grant> = fc.record({ permission: perm, tags: fc.option(glob, { nil: undefined }) });
  const tag = fc.array(fc.constantFrom('Line1', 'Line2', 'Tank1', 'A', 'x'), { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));

  it('allows(p, tag) iff some grant of p is unscoped or its glob matches the tag', () => {
    fc.assert(
      fc.property(fc.array(grant, { maxLength: 6 }), perm, tag, (grants, p, t) => {
        const expected = grants.some((g) => g.permission === p && (g.tags === undefined || matchGlob(g.tags, t)));
        return new PermissionSet(grants).allows(p, t) === expected;
      }),
      { numRuns: 500 },
    );
  });

  it('the set of a union is the union of the sets', () => {
    fc.assert(
      fc.property(fc.array(grant, { maxLength: 4 }), fc.array(grant, { maxLength: 4 }), perm, tag, (a, b, p, t) => {
        const union = new PermissionSet([...a, ...b]);
        const sa = new PermissionSet(a),
          sb = new PermissionSet(b);
        return union.allows(p, t) === (sa.allows(p, t) || sb.allows(p, t)) && union.has(p) === (sa.has(p) || sb.has(p));
      }),
      { numRuns: 500 },
    );
  });

  it('names() is exactly the permissions that has() answers true for', () => {
    fc.assert(
      fc.property(fc.array(grant, { maxLength: 6 }), (grants) => {
        const s = new PermissionSet(grants);
        const expected = PERMISSIONS.filter((p: Permission) => grants.some((g) => g.permission === p));
        return JSON.stringify(s.names()) === JSON.stringify(expected);
      }),
      { numRuns: 300 },
    );
  });
});
