import { useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router';
import type { Connection, TagInfo } from '../../../client/src/index.js';
import { useAlarms, useTags, useTagway } from '../../../client/src/react.js';
import { QualityBadge } from '../components/quality.js';
import { formatValue } from '../format.js';
import { useI18n } from '../i18n.js';
import { useAuth } from '../auth.js';

/** A tiny line of the recent values (points kept in memory since the page opened). */
function Sparkline(props: { points: number[] }) {
  const p = props.points;
  if (p.length < 2) return <svg className="spark" aria-hidden="true" />;
  const min = Math.min(...p);
  const max = Math.max(...p);
  const span = max - min || 1;
  const d = p.map((v, i) => `${((i / (p.length - 1)) * 100).toFixed(1)},${(28 - ((v - min) / span) * 26).toFixed(1)}`).join(' ');
  return (
    <svg className="spark" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">
      <polyline points={d} fill="none" stroke="currentColor" strokeWidth="1.5" vectorEffect="non-scaling-stroke" />
    </svg>
  );
}

export function OverviewPage() {
  const { t } = useI18n();
  const { client } = useTagway();
  const { rights } = useAuth();
  const [tags, setTags] = useState<TagInfo[]>([]);
  const [connections, setConnections] = useState<Connection[]>([]);
  useEffect(() => {
    void client.allTags().then(setTags, () => undefined);
    const load = () =>
      void client.connections().then(
        (r) => setConnections(r.items),
        () => undefined,
      );
    load();
    const timer = setInterval(load, 10_000);
    return () => clearInterval(timer);
  }, [client]);
  const values = useTags(['**']);
  const history = useRef(new Map<string, number[]>());
  for (const [name, v] of values) {
    if (typeof v.value !== 'number' || v.stale) continue;
    const h = history.current.get(name) ?? [];
    if (h.length === 0 || h[h.length - 1] !== v.value) {
      h.push(v.value);
      if (h.length > 40) h.shift();
      history.current.set(name, h);
    }
  }
  const groups = useMemo(() => {
    const m = new Map<string, TagInfo[]>();
    for (const tag of tags) {
      const g = tag.group ?? '—';
      m.set(g, [...(m.get(g) ?? []), tag]);
    }
    return [...m];
  }, [tags]);
  const alarms = useAlarms({});
  const active = alarms.items.filter((a) => a.active);
  const unack = alarms.items.filter((a) => !a.acknowledged);
  const band = (p: number) => (p >= 13 ? 'high' : p >= 7 ? 'medium' : 'low');
  const count = (list: typeof active, b: string) => list.filter((a) => band(a.priority) === b).length;
  return (
    <section>
      <h1>{t.overview}</h1>
      <div className="cards summary">
        {rights.can('alarms:read') && (
          <Link to="/app/alarms" className="card stat">
            <strong>{active.length}</strong> {t.activeAlarms}
            <span className="muted">
              {' '}
              · {unack.length} {t.unacknowledged}
            </span>
            <span className="bands">
              {(['high', 'medium', 'low'] as const).map((b) => (
                <span key={b} className={`band band-${b}`}>
                  {b}: {count(active, b)} / {count(unack, b)}
                </span>
              ))}
            </span>
          </Link>
        )}
        <Link to="/app/connections" className="card stat">
          <strong>
            {connections.filter((c) => c.state === 'CONNECTED').length}/{connections.length}
          </strong>{' '}
          {t.connections}
          <span className="bands">
            {connections.map((c) => (
              <span key={c.name} className={`conn conn-${c.state.toLowerCase()}`}>
                {c.state === 'CONNECTED' ? '●' : '✕'} {c.name}
              </span>
            ))}
          </span>
        </Link>
      </div>
      <div className="cards">
        {groups.map(([group, list]) => (
          <article key={group} className="card group" aria-label={group}>
            <h2>{group}</h2>
            <ul>
              {list.map((tag) => {
                const v = values.get(tag.name);
                return (
                  <li key={tag.name} className={v?.stale ? 'stale' : ''}>
                    <Link
                      to={`/app/tags?tag=${encodeURIComponent(tag.name)}&filter=${encodeURIComponent(tag.name)}`}
                      className="tag-name"
                      title={tag.description}
                    >
                      {tag.name.slice(group !== '—' && tag.name.includes('.') ? tag.name.lastIndexOf('.') + 1 : 0) || tag.name}
                    </Link>
                    <span className="value">
                      {formatValue(v, tag.type)} <small>{tag.unit}</small>
                    </span>
                    <QualityBadge value={v} />
                    <Sparkline points={history.current.get(tag.name) ?? []} />
                  </li>
                );
              })}
            </ul>
          </article>
        ))}
      </div>
    </section>
  );
}
