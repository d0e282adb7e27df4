import { describe, expect, it } from 'vitest';
import type { PermissionSet } from '../../../../src/domain/permissions.js';
import { TagwayError } from '../../../../src/domain/problems.js';
import { EventBus } from '../../../../src/runtime/event-bus.js';
import { wsEncoder } from '../../../../src/runtime/push/encoders.js';
import { ChannelRevocation } from '../../../../src/runtime/push/revocation.js';
import { MAX_SUBSCRIPTION_ENTRIES, MAX_SUBSCRIPTION_GLOBS } from '../../../../src/runtime/push/subscription.js';
import { PUSH_CLOSE, type ChannelOwner, type ChannelPrincipal } from '../../../../src/runtime/push/types.js';
import { ALL, def, MemoryAlarmSource, perms, setup, TestSink } from '../../../helpers/push.js';

const TAGS = [def('Line1.Speed'), def('Line1.Level'), def('Tank1.Level')];
const LINE1 = perms({ permission: 'tags:read', tags: 'Line1.**' }, { permission: 'alarms:read', tags: 'Line1.**' });

/** A principal whose credentials the test changes, as the user directory or session store would. */
class Credentials {
  valid = true;
  permissions: PermissionSet;
  groups: string[];
  asyncCheck = false;
  constructor(
    readonly username: string,
    p: PermissionSet,
    groups: string[] = ['g'],
    readonly sessionId?: string,
  ) {
    this.permissions = p;
    this.groups = groups;
  }
  principal(): ChannelPrincipal {
    return { username: this.username, groups: this.groups, permissions: this.permissions, sessionId: this.sessionId };
  }
  owner(log: string[] = []): ChannelOwner {
    return {
      principal: this.principal(),
      recheck: () => {
        const p = this.valid ? this.principal() : undefined;
        return this.asyncCheck ? Promise.resolve(p) : p;
      },
      revoked: (code, message) => log.push(`revoked ${code} ${message}`),
      rescoped: (p) => log.push(`rescoped ${p.username}`),
    };
  }
}

function world() {
  const alarms = new MemoryAlarmSource();
  const w = setup(TAGS, { alarms });
  const events = new EventBus();
  const revocation = new ChannelRevocation(w.hub, events, { revalidateMs: 60_000, refreshGraceMs: 5_000 });
  const open = (cred: Credentials, log: string[] = []) => {
    const sink = new TestSink();
    const conn = w.hub.connect(sink, wsEncoder, cred.permissions);
    conn.setOwner(cred.owner(log));
    return { sink, conn, log };
  };
  return { ...w, alarms, events, revocation, open };
}

const flushMicrotasks = () => new Promise((r) => setImmediate(r));

describe('ChannelRevocation', () => {
  it('closes the channels of a revoked session at once, and only those', () => {
    const w = world();
    const a = w.open(new Credentials('ann', ALL, ['g'], 'sess-a'));
    const b = w.open(new Credentials('ann', ALL, ['g'], 'sess-b'));
    w.events.emit('session.revoked', { sessionId: 'sess-a', username: 'ann', reason: 'logout' });
    expect(a.sink.closed).toEqual({ code: PUSH_CLOSE.UNAUTHENTICATED, reason: expect.stringContaining('session ended (logout)') });
    expect(a.log).toEqual([expect.stringMatching(/^revoked 4401/)]);
    expect(a.conn.closed).toBe(true);
    expect(b.sink.closed).toBeUndefined();
    expect(w.hub.currentStats().connections).toBe(1);
  });

  it('gives a refreshed session a grace period, then checks it again', () => {
    const w = world();
    const cred = new Credentials('ann', ALL, ['g'], 'sess-a');
    const a = w.open(cred);
    w.events.emit('session.revoked', { sessionId: 'sess-a', username: 'ann', reason: 'refresh' });
    expect(a.sink.closed).toBeUndefined();
    cred.valid = false; // the old token is gone and the client did not send the new one
    w.clock.advance(5_000);
    expect(a.sink.closed?.code).toBe(PUSH_CLOSE.UNAUTHENTICATED);
  });

  it('a refreshed channel that re-authenticated in time stays open', () => {
    const w = world();
    const old = new Credentials('ann', ALL, ['g'], 'sess-a');
    const a = w.open(old);
    w.events.emit('session.revoked', { sessionId: 'sess-a', username: 'ann', reason: 'refresh' });
    old.valid = false;
    a.conn.setOwner(new Credentials('ann', ALL, ['g'], 'sess-new').owner()); // the `auth` message with the new token
    w.clock.advance(5_000);
    expect(a.sink.closed).toBeUndefined();
  });

  it('user.changed: a user whose credentials no longer hold is closed (sync and async checks)', async () => {
    const w = world();
    const ann = new Credentials('ann', ALL);
    const bob = new Credentials('bob', ALL);
    bob.asyncCheck = true;
    const a = w.open(ann);
    const b = w.open(bob);
    const other = w.open(new Credentials('cid', ALL));
    ann.valid = false;
    bob.valid = false;
    w.events.emit('user.changed', { username: 'ann', reason: 'disabled' });
    expect(a.sink.closed?.code).toBe(PUSH_CLOSE.UNAUTHENTICATED);
    w.events.emit('user.changed', { username: 'bob', reason: 'password' });
    await flushMicrotasks();
    expect(b.sink.closed?.code).toBe(PUSH_CLOSE.UNAUTHENTICATED);
    expect(other.sink.closed).toBeUndefined();
  });

  it('changed permissions re-scope the subscriptions in place: unreadable tags stop, alarm events are filtered', () => {
    const w = world();
    const cred = new Credentials('ann', ALL, ['operators']);
    const { sink, conn, log } = w.open(cred);
    expect(conn.subscribe('all', { tags: ['**'] })).toBe(3);
    conn.subscribeAlarms('al', {});
    w.hub.flush();
    sink.take();
    cred.permissions = LINE1;
    w.events.emit('user.changed', { group: 'operators', reason: 'permissions' });
    expect(log).toEqual(['rescoped ann']);
    expect(conn.tagCounts()).toEqual({ all: 2 });
    expect(conn.permissions).toBe(LINE1);
    w.set('Tank1.Level', 5);
    w.set('Line1.Speed', 6);
    w.alarms.emit({ alarm: 'Tank1.High', tag: 'Tank1.Level' });
    w.alarms.emit({ alarm: 'Line1.Stop', tag: 'Line1.Speed' });
    w.hub.flush();
    expect(sink.values().map(([n]) => n)).toEqual(['Line1.Speed']);
    expect(
      sink
        .json()
        .filter((m) => m.type === 'alarm')
        .map((m) => (m.event as { alarm: string }).alarm),
    ).toEqual(['Line1.Stop']);
    expect(sink.closed).toBeUndefined();
  });

  it('a group change reaches only its members; unchanged permissions change nothing', () => {
    const w = world();
    const member = new Credentials('ann', ALL, ['operators']);
    const outsider = new Credentials('bob', ALL, ['viewers']);
    const m = w.open(member);
    const o = w.open(outsider);
    member.permissions = LINE1;
    outsider.permissions = LINE1;
    w.events.emit('user.changed', { group: 'operators', reason: 'permissions' });
    expect(m.log).toEqual(['rescoped ann']);
    expect(o.log).toEqual([]);
    expect(o.conn.permissions).toBe(ALL);
    w.events.emit('user.changed', { group: 'operators', reason: 'permissions' });
    expect(m.log).toEqual(['rescoped ann']); // same grants again: no second notice
  });

  it('a principal left without any permission a channel serves is closed with FORBIDDEN', () => {
    const w = world();
    const cred = new Credentials('ann', ALL);
    const a = w.open(cred);
    cred.permissions = perms({ permission: 'audit:read' });
    w.events.emit('user.changed', { username: 'ann', reason: 'groups' });
    expect(a.sink.closed?.code).toBe(PUSH_CLOSE.FORBIDDEN);
  });

  it('an older, slower check never overrides a newer one', async () => {
    const w = world();
    let resolveFirst!: (p: ChannelPrincipal | undefined) => void;
    const cred = new Credentials('ann', ALL);
    const a = w.open(cred);
    let calls = 0;
    a.conn.setOwner({
      principal: cred.principal(),
      recheck: () => {
        calls++;
        if (calls === 1) return new Promise((r) => (resolveFirst = r));
        return cred.principal();
      },
    });
    w.events.emit('user.changed', { username: 'ann', reason: 'groups' }); // slow, will answer "gone"
    w.events.emit('user.changed', { username: 'ann', reason: 'enabled' }); // fast, answers "valid"
    resolveFirst(undefined);
    await flushMicrotasks();
    expect(a.sink.closed).toBeUndefined();
  });

  it('the periodic sweep re-checks every channel; stop() ends listening', () => {
    const w = world();
    const cred = new Credentials('ann', ALL);
    const a = w.open(cred);
    cred.valid = false; // e.g. the session idled out: no event says so
    w.clock.advance(59_999);
    expect(a.sink.closed).toBeUndefined();
    w.clock.advance(1);
    expect(a.sink.closed?.code).toBe(PUSH_CLOSE.UNAUTHENTICATED);
    w.revocation.stop();
    const c2 = new Credentials('bob', ALL);
    const b = w.open(c2);
    c2.valid = false;
    w.events.emit('user.changed', { username: 'bob', reason: 'disabled' });
    w.clock.advance(120_000);
    expect(b.sink.closed).toBeUndefined();
  });

  it('channels without an owner are left alone; a throwing check counts as revoked', () => {
    const w = world();
    const sink = new TestSink();
    w.hub.connect(sink, wsEncoder, ALL);
    const t = w.open(new Credentials('ann', ALL));
    t.conn.setOwner({
      principal: { username: 'ann', groups: [], permissions: ALL },
      recheck: () => {
        throw new Error('store gone');
      },
    });
    w.events.emit('user.changed', { reason: 'permissions' });
    expect(sink.closed).toBeUndefined();
    expect(t.sink.closed?.code).toBe(PUSH_CLOSE.UNAUTHENTICATED);
  });
});

describe('subscription budgets', () => {
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e instanceof TagwayError ? e.code : 'OTHER';
    }
    return undefined;
  };

  it('bounds names per subscription, globs per subscription and the length of each', () => {
    const { hub } = setup(TAGS);
    const conn = hub.connect(new TestSink(), wsEncoder, ALL);
    expect(codeOf(() => conn.subscribe('a', { tags: Array.from({ length: MAX_SUBSCRIPTION_ENTRIES + 1 }, () => 'Line1.Speed') }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => conn.subscribe('b', { tags: Array.from({ length: MAX_SUBSCRIPTION_GLOBS + 1 }, (_, i) => `L${i}.*`) }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => conn.subscribe('c', { tags: ['x'.repeat(1_025)] }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => conn.subscribe('d', { tags: [`${'x'.repeat(2_000)}*`] }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => conn.subscribeAlarms('e', { alarm: `${'a'.repeat(1_025)}*` }))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => conn.subscribeAlarms('f', { class: 'c,'.repeat(600) }))).toBe('VALIDATION_FAILED');
    expect(conn.subscriptionCount).toBe(0);
    expect(conn.subscribe('ok', { tags: Array.from({ length: MAX_SUBSCRIPTION_GLOBS }, (_, i) => `Line${i}.**`) })).toBe(2);
  });

  it('bounds the characters of names and globs one connection holds; unsubscribing gives them back', () => {
    const { hub } = setup(TAGS);
    hub.configure({ maxPatternCharsPerConnection: 3_000 });
    const conn = hub.connect(new TestSink(), wsEncoder, ALL);
    const big = (i: number) => ({ tags: [`Line1.${'x'.repeat(990)}${i}*`] });
    conn.subscribe('1', big(1));
    conn.subscribe('2', big(2));
    conn.subscribe('3', big(3));
    expect(codeOf(() => conn.subscribe('4', big(4)))).toBe('PAYLOAD_TOO_LARGE');
    conn.unsubscribe('2');
    conn.subscribe('4', big(4));
  });
});
