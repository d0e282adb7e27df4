import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { STATE_MACHINES, type StateMachine } from '../../../../src/domain/alarms/definition.js';
import {
  applyEvent,
  isLegal,
  replay,
  statusSymbol,
  transition,
  userResponse,
  type AlarmEventType,
  type AlarmInput,
  type OccurrenceState,
  type Transition,
} from '../../../../src/domain/alarms/state-machine.js';

function run(
  sm: StateMachine,
  inputs: AlarmInput[],
): { occ: OccurrenceState | undefined; events: AlarmEventType[]; results: Transition[] } {
  let occ: OccurrenceState | undefined;
  const events: AlarmEventType[] = [];
  const results: Transition[] = [];
  for (const i of inputs) {
    const t = transition(sm, occ, i);
    results.push(t);
    if (t.kind === 'event') {
      occ = t.next;
      events.push(t.event);
    }
  }
  return { occ, events, results };
}

describe('alarm state machines', () => {
  it('RAISE_CLEAR: no acknowledgement, closes on clear', () => {
    const { occ, events, results } = run('RAISE_CLEAR', ['RAISE', 'ACKNOWLEDGE', 'CLEAR']);
    expect(events).toEqual(['RAISED', 'CLEARED']);
    expect(results[1]).toEqual({ kind: 'none' });
    expect(occ).toMatchObject({ state: 'RAISED_CLEARED', closed: true });
  });

  it('OPTIONAL: may be acknowledged while raised, closes on clear either way', () => {
    expect(run('RAISE_CLEAR_OPTIONAL_ACKNOWLEDGMENT', ['RAISE', 'CLEAR']).occ).toMatchObject({ state: 'RAISED_CLEARED', closed: true });
    const r = run('RAISE_CLEAR_OPTIONAL_ACKNOWLEDGMENT', ['RAISE', 'ACKNOWLEDGE', 'ACKNOWLEDGE', 'CLEAR']);
    expect(r.events).toEqual(['RAISED', 'ACKNOWLEDGED', 'CLEARED']);
    expect(r.occ).toMatchObject({ state: 'RAISED_ACKNOWLEDGED_CLEARED', closed: true });
  });

  it('REQUIRES_ACKNOWLEDGMENT: stays until both cleared and acknowledged, in either order', () => {
    const sm = 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT';
    const a = run(sm, ['RAISE', 'CLEAR']);
    expect(a.occ).toMatchObject({ state: 'RAISED_CLEARED', closed: false });
    expect(statusSymbol(a.occ!)).toBe('-');
    const b = run(sm, ['RAISE', 'CLEAR', 'ACKNOWLEDGE']);
    expect(b.occ).toMatchObject({ state: 'RAISED_CLEARED_ACKNOWLEDGED', closed: true });
    const c = run(sm, ['RAISE', 'ACKNOWLEDGE']);
    expect(c.occ).toMatchObject({ state: 'RAISED_ACKNOWLEDGED', closed: false });
    expect(statusSymbol(c.occ!)).toBe('+*');
    expect(userResponse(c.occ!)).toBe('ACKNOWLEDGEMENT');
    expect(run(sm, ['RAISE', 'ACKNOWLEDGE', 'CLEAR']).occ).toMatchObject({ state: 'RAISED_ACKNOWLEDGED_CLEARED', closed: true });
  });

  it('AND_RESET: closes only on a reset after clear and acknowledgement', () => {
    const sm = 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET';
    const r = run(sm, ['RAISE', 'RESET', 'ACKNOWLEDGE', 'RESET', 'CLEAR', 'RESET']);
    expect(r.results[1]).toMatchObject({ kind: 'invalid' });
    expect(r.results[3]).toMatchObject({ kind: 'invalid' });
    expect(r.events).toEqual(['RAISED', 'ACKNOWLEDGED', 'CLEARED', 'RESET']);
    expect(r.occ).toMatchObject({ state: 'RAISED_ACKNOWLEDGED_CLEARED', reset: true, closed: true });
    expect(userResponse(r.occ!)).toBe('RESET');
    expect(transition(sm, r.occ, 'RESET')).toMatchObject({ kind: 'invalid' });
  });

  it('a reset where the class needs none is invalid', () => {
    const r = run('RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT', ['RAISE', 'CLEAR', 'RESET']);
    expect(r.results[2]).toMatchObject({ kind: 'invalid' });
  });

  it('acknowledging a closed occurrence changes nothing and writes no event', () => {
    const r = run('RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT', ['RAISE', 'ACKNOWLEDGE', 'CLEAR', 'ACKNOWLEDGE']);
    expect(r.events).toEqual(['RAISED', 'ACKNOWLEDGED', 'CLEARED']);
  });
});

/**
 * A model of what the engine does with one alarm: the condition comes and goes (each coming while an older
 * occurrence still waits starts a new one), operators acknowledge and reset random occurrences. Every state must be
 * legal, and folding the journal must give back exactly the current list.
 */
type Step = { kind: 'cond'; on: boolean } | { kind: 'ack'; pick: number } | { kind: 'reset'; pick: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('cond' as const), on: fc.boolean() }),
  fc.record({ kind: fc.constant('ack' as const), pick: fc.nat(10) }),
  fc.record({ kind: fc.constant('reset' as const), pick: fc.nat(10) }),
);

describe('alarm state machines (properties)', () => {
  it('every reachable state is legal and the journal replays to the same current list', () => {
    fc.assert(
      fc.property(fc.constantFrom(...STATE_MACHINES), fc.array(stepArb, { maxLength: 120 }), (sm, steps) => {
        const open = new Map<number, OccurrenceState>();
        const journal: { id: number; event: AlarmEventType }[] = [];
        let activeId: number | undefined;
        let nextId = 1;
        const apply = (id: number, t: Transition): void => {
          if (t.kind !== 'event') return;
          journal.push({ id, event: t.event });
          expect(isLegal(sm, t.next)).toBe(true);
          if (t.next.closed) open.delete(id);
          else open.set(id, t.next);
        };
        for (const s of steps) {
          if (s.kind === 'cond') {
            if (s.on && activeId === undefined) {
              const t = transition(sm, undefined, 'RAISE');
              activeId = nextId++;
              apply(activeId, t);
            } else if (!s.on && activeId !== undefined) {
              apply(activeId, transition(sm, open.get(activeId), 'CLEAR'));
              activeId = undefined;
            }
          } else {
            const ids = [...open.keys()];
            if (ids.length === 0) continue;
            const id = ids[s.pick % ids.length]!;
            const before = open.get(id)!;
            const t = transition(sm, before, s.kind === 'ack' ? 'ACKNOWLEDGE' : 'RESET');
            if (s.kind === 'ack' && (before.acknowledged || sm === 'RAISE_CLEAR')) expect(t.kind).toBe('none');
            if (t.kind === 'invalid') expect(s.kind).toBe('reset');
            apply(id, t);
          }
          // At most one occurrence of an alarm has its condition active.
          expect([...open.values()].filter((o) => o.active).length).toBe(activeId === undefined ? 0 : 1);
        }
        // Rebuild from the journal alone.
        const rebuilt = new Map<number, OccurrenceState>();
        const byId = new Map<number, AlarmEventType[]>();
        for (const e of journal) byId.set(e.id, [...(byId.get(e.id) ?? []), e.event]);
        for (const [id, evs] of byId) {
          const o = replay(sm, evs)!;
          expect(isLegal(sm, o)).toBe(true);
          if (!o.closed) rebuilt.set(id, o);
        }
        expect(rebuilt).toEqual(open);
      }),
      { numRuns: 500 },
    );
  });

  it('applyEvent agrees with transition for every event transition yields', () => {
    const occArb = fc.constantFrom<AlarmInput[]>(
      ['RAISE'],
      ['RAISE', 'ACKNOWLEDGE'],
      ['RAISE', 'CLEAR'],
      ['RAISE', 'CLEAR', 'ACKNOWLEDGE'],
      ['RAISE', 'ACKNOWLEDGE', 'CLEAR'],
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...STATE_MACHINES),
        occArb,
        fc.constantFrom<AlarmInput>('RAISE', 'CLEAR', 'ACKNOWLEDGE', 'RESET'),
        (sm, prefix, input) => {
          const { occ } = run(sm, prefix);
          const t = transition(sm, occ, input);
          if (t.kind === 'event') expect(applyEvent(sm, occ, t.event)).toEqual(t.next);
        },
      ),
    );
  });
});
