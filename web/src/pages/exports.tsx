import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type {
  ExportReports,
  ExportRunRequest,
  ExportRunResult,
  OutboxEntry,
  OutboxEntryDetail,
  OutboxParams,
} from '../../../client/src/index.js';
import { useTagway } from '../../../client/src/react.js';
import { useAuth } from '../auth.js';
import { formatDateTime } from '../format.js';
import { useI18n } from '../i18n.js';

const STATES = ['pending', 'retrying', 'delivered', 'dead'] as const;
const PAGE = 50;

/**
 * Shift reports to ERP: the report definitions, running one for a shift or a range, and the durable outbox with
 * each entry's attempts. Running and the outbox actions need `exports:run`; the server checks every call anyway.
 */
export function ExportsPage() {
  const { t } = useI18n();
  const { client } = useTagway();
  const { rights } = useAuth();
  const [defs, setDefs] = useState<ExportReports | undefined>();
  const [shiftNames, setShiftNames] = useState<string[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [selected, setSelected] = useState<number | undefined>();
  // Bumped after a run or an action: the outbox list loads again.
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    client.exportReports().then(setDefs, (e: Error) => setError(e.message));
    // A project without a calendar answers 404 here: then only ranges can be run.
    client.shifts().then(
      (r) => setShiftNames([...new Set(r.items.map((s) => s.name))]),
      () => setShiftNames([]),
    );
  }, [client]);
  const canRun = rights.can('exports:run');
  return (
    <section>
      <h1>{t.exExports}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <section aria-label={t.exReports}>
        <h2>{t.exReports}</h2>
        <div className="cards">
          {(defs?.reports ?? []).map((r) => (
            <article key={r.name} className="card" aria-label={r.name}>
              <h3>{r.name}</h3>
              <dl>
                <dt>{t.exTrigger}</dt>
                <dd>{r.trigger}</dd>
                <dt>{t.exFields}</dt>
                <dd>
                  {r.fields.map((f) => (
                    <div key={f.name}>
                      {f.name}: {f.aggregate}({f.tag ?? f.alarms})
                    </div>
                  ))}
                </dd>
                <dt>{t.exTargets}</dt>
                <dd>
                  {r.targets
                    .map((name) => {
                      const target = defs?.targets.find((x) => x.name === name);
                      return target ? `${name} (${target.kind})` : name;
                    })
                    .join(', ')}
                </dd>
              </dl>
            </article>
          ))}
        </div>
        {defs && defs.reports.length === 0 && <p className="muted">{t.exNoReports}</p>}
        {canRun && defs && defs.reports.length > 0 && (
          <RunForm
            reports={defs.reports.map((r) => r.name)}
            shifts={shiftNames}
            onRun={() => setGeneration((g) => g + 1)}
            onOpen={setSelected}
          />
        )}
      </section>
      <Outbox
        reports={defs?.reports.map((r) => r.name) ?? []}
        targets={defs?.targets.map((x) => x.name) ?? []}
        generation={generation}
        onOpen={setSelected}
      />
      {selected !== undefined && (
        <EntryDetail id={selected} canRun={canRun} onClose={() => setSelected(undefined)} onChanged={() => setGeneration((g) => g + 1)} />
      )}
    </section>
  );
}

function RunForm(props: { reports: string[]; shifts: string[]; onRun: () => void; onOpen: (id: number) => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [mode, setMode] = useState<'shift' | 'range'>(props.shifts.length > 0 ? 'shift' : 'range');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [result, setResult] = useState<ExportRunResult | undefined>();
  useEffect(() => {
    if (props.shifts.length === 0) setMode('range');
  }, [props.shifts.length]);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const s = (k: string) => String(f.get(k) ?? '').trim();
    const report = s('report');
    let body: ExportRunRequest;
    if (mode === 'shift') body = { shift: s('shift'), date: s('date') };
    else {
      const from = new Date(s('from'));
      const to = new Date(s('to'));
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
        setProblem(t.exRangeNeeded);
        return;
      }
      body = { from: from.toISOString(), to: to.toISOString() };
    }
    setBusy(true);
    setProblem(undefined);
    setResult(undefined);
    try {
      setResult(await client.runExportReport(report, body));
      props.onRun();
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-label={t.exRun}>
      <h2>{t.exRun}</h2>
      <form className="filters" onSubmit={(e) => void submit(e)}>
        <label>
          {t.exReport}
          <select name="report">
            {props.reports.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          {t.exPeriod}
          <select value={mode} onChange={(e) => setMode(e.target.value as 'shift' | 'range')}>
            {props.shifts.length > 0 && <option value="shift">{t.exShift}</option>}
            <option value="range">{t.range}</option>
          </select>
        </label>
        {mode === 'shift' ? (
          <>
            <label>
              {t.exShift}
              <select name="shift">
                {props.shifts.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            </label>
            <label>
              {t.exDate}
              <input type="date" name="date" required />
            </label>
          </>
        ) : (
          <>
            <label>
              {t.from}
              <input type="datetime-local" name="from" required />
            </label>
            <label>
              {t.to}
              <input type="datetime-local" name="to" required />
            </label>
          </>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t.exRunButton}
        </button>
      </form>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {result && (
        <div className="card" role="region" aria-label={t.exResult}>
          <h3>
            {result.report.report} · {result.report.period.shift ?? ''} {formatDateTime(result.report.period.start)} –{' '}
            {formatDateTime(result.report.period.end)}
          </h3>
          <table className="ex-table">
            <thead>
              <tr>
                <th>{t.name}</th>
                <th>{t.value}</th>
                <th>{t.exFlags}</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(result.report.values).map(([field, v]) => (
                <tr key={field}>
                  <td>{field}</td>
                  <td>{v === null ? '—' : String(v)}</td>
                  <td>{(result.report.flags[field] ?? []).join(', ') || t.exNoFlags}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            {t.exEnqueued}:{' '}
            {result.entries.map((e) => (
              <button key={e.id} type="button" className="link" onClick={() => props.onOpen(e.id)}>
                {e.target} #{e.id}
              </button>
            ))}
          </p>
        </div>
      )}
    </section>
  );
}

function Outbox(props: { reports: string[]; targets: string[]; generation: number; onOpen: (id: number) => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [filter, setFilter] = useState<OutboxParams>({});
  const [items, setItems] = useState<OutboxEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | undefined>();
  const load = useCallback(
    async (f: OutboxParams, after?: number) => {
      setProblem(undefined);
      try {
        const page = await client.outbox({ ...f, limit: PAGE, ...(after !== undefined ? { after } : {}) });
        setItems((old) => (after !== undefined ? [...old, ...page.items] : page.items));
        setNext(page.next);
      } catch (err) {
        setProblem((err as Error).message);
      }
    },
    [client],
  );
  useEffect(() => {
    void load(filter);
  }, [load, filter, props.generation]);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const s = (k: string) => String(f.get(k) ?? '') || undefined;
    const next: OutboxParams = {};
    const state = s('state') as OutboxParams['state'];
    if (state) next.state = state;
    if (s('report')) next.report = s('report');
    if (s('target')) next.target = s('target');
    setFilter(next);
  };
  return (
    <section aria-label={t.exOutbox}>
      <h2>{t.exOutbox}</h2>
      <form className="filters" onSubmit={submit}>
        <label>
          {t.state}
          <select name="state" defaultValue="">
            <option value="">{t.any}</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          {t.exReport}
          <select name="report" defaultValue="">
            <option value="">{t.any}</option>
            {props.reports.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          {t.target}
          <select name="target" defaultValue="">
            <option value="">{t.any}</option>
            {props.targets.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit">{t.apply}</button>
      </form>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      <div role="table" aria-label={t.exOutbox} className="outbox-table">
        <div role="rowgroup">
          {items.length === 0 && <p className="muted">{t.exEmpty}</p>}
          {items.map((e) => (
            <div role="row" key={e.id} className={`outbox-row ex-${e.state}`} aria-label={`#${e.id} ${e.report} ${e.target} ${e.state}`}>
              <span role="cell">
                <button type="button" className="link" onClick={() => props.onOpen(e.id)}>
                  #{e.id}
                </button>
              </span>
              <span role="cell" className="ex-state">
                {e.state}
              </span>
              <span role="cell">
                {e.report} → {e.target}
              </span>
              <span role="cell" className="muted">
                {formatDateTime(e.periodStart)} · {e.attempts} {t.exAttempts}
                {e.lastError ? ` · ${e.lastError}` : ''}
              </span>
            </div>
          ))}
        </div>
      </div>
      {next !== null && (
        <button type="button" onClick={() => void load(filter, next)}>
          {t.loadMore}
        </button>
      )}
    </section>
  );
}

function EntryDetail(props: { id: number; canRun: boolean; onClose: () => void; onChanged: () => void }) {
  const { t } = useI18n();
  const { client } = useTagway();
  const [entry, setEntry] = useState<OutboxEntryDetail | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const load = useCallback(() => {
    client.outboxEntry(props.id).then(
      (e) => {
        setEntry(e);
        setProblem(undefined);
      },
      (err: Error) => setProblem(err.message),
    );
  }, [client, props.id]);
  useEffect(() => {
    setEntry(undefined);
    setConfirmDiscard(false);
    load();
    // An entry still on its way changes by itself: follow it until it settles.
    const timer = setInterval(load, 2_000);
    return () => clearInterval(timer);
  }, [load]);
  const act = async (f: () => Promise<OutboxEntryDetail>) => {
    setProblem(undefined);
    try {
      setEntry(await f());
      props.onChanged();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <section className="card ex-detail" role="region" aria-label={`${t.exEntry} #${props.id}`}>
      <div className="detail-head">
        <h2 className="grow">
          {t.exEntry} #{props.id}
        </h2>
        <button type="button" onClick={props.onClose}>
          {t.close}
        </button>
      </div>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {entry && (
        <>
          <dl>
            <dt>{t.state}</dt>
            <dd data-testid="entry-state">{entry.state}</dd>
            <dt>{t.exReport}</dt>
            <dd>
              {entry.report} → {entry.target}
            </dd>
            <dt>{t.exKey}</dt>
            <dd className="mono">{entry.key}</dd>
            <dt>{t.exCreated}</dt>
            <dd>{formatDateTime(entry.createdAt)}</dd>
            {entry.deliveredAt && (
              <>
                <dt>{t.exDelivered}</dt>
                <dd>{formatDateTime(entry.deliveredAt)}</dd>
              </>
            )}
            {entry.nextAttemptAt && (
              <>
                <dt>{t.exNextAttempt}</dt>
                <dd>{formatDateTime(entry.nextAttemptAt)}</dd>
              </>
            )}
            <dt>{t.lastError}</dt>
            <dd>{entry.lastError ?? '—'}</dd>
          </dl>
          {props.canRun && (
            <div className="buttons">
              {entry.state === 'dead' && (
                <button type="button" onClick={() => void act(() => client.retryOutboxEntry(props.id))}>
                  {t.exRetry}
                </button>
              )}
              {(entry.state === 'pending' || entry.state === 'retrying') && (
                <button type="button" onClick={() => setConfirmDiscard(true)}>
                  {t.exDiscard}
                </button>
              )}
            </div>
          )}
          <h3>{t.exAttemptLog}</h3>
          <table className="ex-table" aria-label={t.exAttemptLog}>
            <thead>
              <tr>
                <th>{t.at}</th>
                <th>{t.exStatus}</th>
                <th>{t.exAnswer}</th>
              </tr>
            </thead>
            <tbody>
              {entry.attemptLog.map((a, i) => (
                <tr key={`${a.at}-${i}`}>
                  <td>{formatDateTime(a.at)}</td>
                  <td>{a.status ?? '—'}</td>
                  <td>
                    <pre className="answer">{a.answer}</pre>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>{t.exPayload}</h3>
          <pre className="payload">{JSON.stringify(entry.payload, null, 2)}</pre>
        </>
      )}
      {confirmDiscard && (
        <div className="overlay">
          <div className="card dialog" role="dialog" aria-modal="true" aria-label={t.exDiscard}>
            <h2>{t.exDiscard}</h2>
            <p>{t.exDiscardConfirm.replace('{id}', String(props.id))}</p>
            <div className="buttons">
              <button type="button" onClick={() => setConfirmDiscard(false)}>
                {t.cancel}
              </button>
              <button
                type="button"
                className="primary"
                onClick={() => {
                  setConfirmDiscard(false);
                  void act(() => client.discardOutboxEntry(props.id));
                }}
              >
                {t.confirm}
              </button>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
