import { useEffect, useRef, useState } from 'react';
import type { Connection } from '../../../client/src/index.js';
import { useTagway } from '../../../client/src/react.js';
import { formatDateTime } from '../format.js';
import { useI18n } from '../i18n.js';

/** Reads per second between two refreshes: the poll rate the connection really achieves. */
type Rates = Record<string, number>;

export function ConnectionsPage() {
  const { t } = useI18n();
  const { client } = useTagway();
  const [items, setItems] = useState<Connection[] | undefined>();
  const [rates, setRates] = useState<Rates>({});
  const [error, setError] = useState<string | undefined>();
  const last = useRef<{ at: number; reads: Record<string, number> } | undefined>(undefined);
  useEffect(() => {
    const load = () =>
      void client.connections().then(
        (r) => {
          const at = performance.now();
          const reads = Object.fromEntries(r.items.map((c) => [c.name, c.stats.reads]));
          const prev = last.current;
          if (prev && at > prev.at) {
            const next: Rates = {};
            for (const c of r.items) {
              const before = prev.reads[c.name];
              // A reload restarts a driver's counters: no rate across that.
              if (before !== undefined && c.stats.reads >= before) next[c.name] = ((c.stats.reads - before) * 1000) / (at - prev.at);
            }
            setRates(next);
          }
          last.current = { at, reads };
          setItems(r.items);
          setError(undefined);
        },
        (e: Error) => setError(e.message),
      );
    load();
    const timer = setInterval(load, 5_000);
    return () => clearInterval(timer);
  }, [client]);
  return (
    <section>
      <h1>{t.connections}</h1>
      {error && <p role="alert">{error}</p>}
      <div className="cards">
        {(items ?? []).map((c) => (
          <article key={c.name} className={`card conn-card conn-${c.state.toLowerCase()}`} aria-label={c.name}>
            <h2>
              {c.state === 'CONNECTED' ? '●' : c.state === 'CONNECTING' ? '◌' : '✕'} {c.name}
            </h2>
            <dl>
              <dt>{t.state_}</dt>
              <dd>
                {c.state} · {formatDateTime(c.since)}
              </dd>
              <dt>{t.driver}</dt>
              <dd>
                {c.driver} · {c.tagCount} {t.tagsCount}
              </dd>
              <dt>{t.lastError}</dt>
              <dd>{c.lastError ?? '—'}</dd>
              <dt>{t.reconnects}</dt>
              <dd data-testid="reconnects">{c.reconnects}</dd>
              <dt>{t.lastConnected}</dt>
              <dd>{c.lastConnected ? formatDateTime(c.lastConnected) : '—'}</dd>
              <dt>
                {t.reads} / {t.writes} / {t.errors}
              </dt>
              <dd>
                {c.stats.reads} / {c.stats.writes} / {c.stats.errors}
              </dd>
              <dt>{t.readsPerSecond}</dt>
              <dd>{rates[c.name] !== undefined ? rates[c.name]!.toFixed(1) : '—'}</dd>
              <dt>{t.latency}</dt>
              <dd>{c.stats.rttMs !== undefined ? `${c.stats.rttMs.toFixed(1)} ms` : '—'}</dd>
            </dl>
          </article>
        ))}
      </div>
    </section>
  );
}
