import { useEffect, useState } from 'react';
import type { Connection } from '../../../client/src/index.js';
import { useTagway } from '../../../client/src/react.js';
import { formatDateTime } from '../format.js';
import { useI18n } from '../i18n.js';

export function ConnectionsPage() {
  const { t } = useI18n();
  const { client } = useTagway();
  const [items, setItems] = useState<Connection[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const load = () =>
      void client.connections().then(
        (r) => setItems(r.items),
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
              <dt>Driver</dt>
              <dd>
                {c.driver} · {c.tagCount} {t.tagsCount}
              </dd>
              <dt>{t.lastError}</dt>
              <dd>{c.lastError ?? '—'}</dd>
              <dt>
                {t.reads} / {t.writes} / {t.errors}
              </dt>
              <dd>
                {c.stats.reads} / {c.stats.writes} / {c.stats.errors}
              </dd>
              <dt>{t.latency}</dt>
              <dd>{c.stats.rttMs !== undefined ? `${c.stats.rttMs.toFixed(1)} ms` : '—'}</dd>
            </dl>
          </article>
        ))}
      </div>
    </section>
  );
}
