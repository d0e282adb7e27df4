import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { AlarmEvent, AlarmOccurrence, ArchiveParams } from '../../../client/src/index.js';
import { useAlarms, useTagway } from '../../../client/src/react.js';
import { useAuth } from '../auth.js';
import { formatDateTime } from '../format.js';
import { useI18n } from '../i18n.js';

/** WinCC Unified's names of the alarm states (status text). */
const STATE_TEXT: Record<string, string> = {
  '+': 'Raised',
  '+*': 'Raised/Acknowledged',
  '-': 'Raised/Cleared',
  '-*': 'Raised/Acknowledged/Cleared',
};

/** State machine of each alarm class (from GET /alarms/classes): whether acknowledging and resetting apply. */
type Machines = ReadonlyMap<string, string>;
function needsAck(a: AlarmOccurrence, sm: Machines): boolean {
  return !a.acknowledged && (sm.get(a.class) ?? 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT') !== 'RAISE_CLEAR';
}
function needsReset(a: AlarmOccurrence, sm: Machines): boolean {
  return sm.get(a.class) === 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT_AND_RESET' && a.acknowledged && !a.active && a.userResponse !== 'RESET';
}

const SHELVE_CHOICES = [
  ['15 min', 900_000],
  ['1 h', 3_600_000],
  ['8 h', 28_800_000],
  ['24 h', 86_400_000],
] as const;

export function AlarmsPage() {
  const { t, lang } = useI18n();
  const { client } = useTagway();
  const { rights } = useAuth();
  const { items, error, reload } = useAlarms({ lang });
  const [problem, setProblem] = useState<string | undefined>();
  const [sound, setSound] = useState(false);
  const [machines, setMachines] = useState<Machines>(new Map());
  useEffect(() => {
    void client.alarmClasses().then(
      (r) => setMachines(new Map(r.items.map((c) => [c.name, c.stateMachine]))),
      () => undefined,
    );
  }, [client]);
  const seen = useRef<Set<number> | undefined>(undefined);
  // An optional beep for new high-priority alarms (off by default; browsers allow it after a click anyway).
  useEffect(() => {
    const ids = new Set(items.map((a) => a.id));
    if (seen.current && sound && items.some((a) => a.priority >= 13 && !seen.current!.has(a.id))) beep();
    seen.current = ids;
  }, [items, sound]);
  const act = async (f: () => Promise<unknown>) => {
    setProblem(undefined);
    try {
      await f();
    } catch (err) {
      setProblem((err as Error).message);
    }
    reload();
  };
  const ackable = items.filter((a) => needsAck(a, machines) && rights.can('alarms:acknowledge', a.tag));
  return (
    <section>
      <h1>{t.alarms}</h1>
      <div className="toolbar">
        <h2 className="grow">
          {t.activeAlarms} ({items.length})
        </h2>
        {rights.can('alarms:acknowledge') && (
          <button
            type="button"
            disabled={ackable.length === 0}
            onClick={() => void act(() => client.acknowledgeAlarms(ackable.map((a) => a.id)))}
          >
            {t.acknowledgeAll}
          </button>
        )}
        <label className="check">
          <input type="checkbox" checked={sound} onChange={(e) => setSound(e.target.checked)} /> {t.sound}
        </label>
      </div>
      {(problem || error) && (
        <p role="alert" className="error">
          {problem ?? error?.message}
        </p>
      )}
      <div role="table" aria-label={t.activeAlarms} className="alarm-table">
        <div role="rowgroup">
          {items.length === 0 && <p className="muted">{t.noAlarms}</p>}
          {items.map((a) => (
            <div
              role="row"
              key={a.id}
              className={`alarm-row prio-${a.priority >= 13 ? 'high' : a.priority >= 7 ? 'medium' : 'low'}${a.active ? ' active' : ''}`}
            >
              <span role="cell" className="prio" title={`${t.priority} ${a.priority}`}>
                {a.priority}
              </span>
              <span role="cell" className="text">
                <strong>{a.text}</strong>
                <small className="muted">
                  {' '}
                  {a.class} · {STATE_TEXT[a.status] ?? a.status} · {formatDateTime(a.raisedAt)}
                </small>
              </span>
              <span role="cell" className="actions">
                {rights.can('alarms:acknowledge') && (
                  <>
                    <button
                      type="button"
                      disabled={!needsAck(a, machines) || !rights.can('alarms:acknowledge', a.tag)}
                      onClick={() => void act(() => client.acknowledgeAlarm(a.id))}
                    >
                      {t.acknowledge}
                    </button>
                    {needsReset(a, machines) && (
                      <button type="button" onClick={() => void act(() => client.resetAlarm(a.id))}>
                        {t.reset}
                      </button>
                    )}
                    <select
                      aria-label={`${t.shelve} ${a.alarm}`}
                      value=""
                      onChange={(e) => e.target.value && void act(() => client.shelveAlarm(a.alarm, Number(e.target.value)))}
                    >
                      <option value="">{t.shelve}…</option>
                      {SHELVE_CHOICES.map(([label, ms]) => (
                        <option key={ms} value={ms}>
                          {label}
                        </option>
                      ))}
                    </select>
                  </>
                )}
              </span>
            </div>
          ))}
        </div>
      </div>
      <Archive />
    </section>
  );
}

function beep(): void {
  try {
    const Ctx = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
    if (!Ctx) return;
    const ctx = new Ctx();
    const o = ctx.createOscillator();
    o.frequency.value = 880;
    o.connect(ctx.destination);
    o.start();
    o.stop(ctx.currentTime + 0.25);
  } catch {
    /* no sound: never mind */
  }
}

function Archive() {
  const { t, lang } = useI18n();
  const { client } = useTagway();
  const [filter, setFilter] = useState<ArchiveParams>({ limit: 50 });
  const [items, setItems] = useState<AlarmEvent[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const load = async (f: ArchiveParams, cursor?: string) => {
    setError(undefined);
    try {
      const page = await client.alarmArchive({ ...f, lang, ...(cursor ? { cursor } : {}) });
      setItems((old) => (cursor ? [...old, ...page.items] : page.items));
      setNext(page.next);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => {
    void load(filter);
  }, [lang]);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const s = (k: string) => (String(f.get(k) ?? '').trim() === '' ? undefined : String(f.get(k)).trim());
    const iso = (k: string) => (s(k) ? new Date(s(k)!).toISOString() : undefined);
    const next: ArchiveParams = {
      limit: 50,
      from: iso('from'),
      to: iso('to'),
      alarm: s('alarm'),
      class: s('class'),
      minPriority: s('minPriority') ? Number(s('minPriority')) : undefined,
      text: s('text'),
      event: s('event'),
    };
    for (const k of Object.keys(next) as Array<keyof ArchiveParams>) if (next[k] === undefined) delete next[k];
    setFilter(next);
    void load(next);
  };
  const csvFilter: ArchiveParams = { ...filter };
  delete csvFilter.limit;
  return (
    <section aria-label={t.archive}>
      <h2>{t.archive}</h2>
      <form className="filters" onSubmit={submit}>
        <label>
          {t.from}
          <input type="datetime-local" name="from" />
        </label>
        <label>
          {t.to}
          <input type="datetime-local" name="to" />
        </label>
        <label>
          {t.alarm}
          <input name="alarm" placeholder="Line1.**" />
        </label>
        <label>
          {t.class}
          <input name="class" />
        </label>
        <label>
          {t.minPriority}
          <input name="minPriority" type="number" min={0} max={16} />
        </label>
        <label>
          {t.text}
          <input name="text" />
        </label>
        <label>
          {t.event}
          <select name="event" defaultValue="">
            <option value="">{t.any}</option>
            <option>RAISED</option>
            <option>CLEARED</option>
            <option>ACKNOWLEDGED</option>
            <option>RESET</option>
          </select>
        </label>
        <button type="submit">{t.apply}</button>
        <a className="button" href={client.alarmArchiveCsvUrl({ ...csvFilter, lang, limit: 10_000 })} download="alarm-archive.csv">
          {t.downloadCsv}
        </a>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div role="table" aria-label={t.archive} className="archive-table">
        <div role="rowgroup">
          {items.map((e) => (
            <div role="row" key={e.eventId} className="archive-row">
              <span role="cell" className="muted">
                {formatDateTime(e.at)}
              </span>
              <span role="cell">{e.event}</span>
              <span role="cell">{e.text}</span>
              <span role="cell" className="muted">
                {e.class} · {e.priority}
                {e.user ? ` · ${e.user}` : ''}
              </span>
            </div>
          ))}
        </div>
      </div>
      {next && (
        <button type="button" onClick={() => void load(filter, next)}>
          {t.loadMore}
        </button>
      )}
    </section>
  );
}
