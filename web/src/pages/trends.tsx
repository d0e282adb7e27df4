import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import type { HistoryResult, TagInfo } from '../../../client/src/index.js';
import { useTagway } from '../../../client/src/react.js';
import { TrendChart } from '../components/trend-chart.js';
import { useI18n } from '../i18n.js';

const PRESETS: Array<[string, number]> = [
  ['15 min', 900_000],
  ['1 h', 3_600_000],
  ['8 h', 28_800_000],
  ['24 h', 86_400_000],
  ['7 d', 604_800_000],
  ['30 d', 2_592_000_000],
];

function toCsv(series: Array<{ name: string; items: HistoryResult['items'] }>): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    // Formula-safe like the server's CSV writer: a leading =, +, - or @ is neutralised.
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
    return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = ['tag,timestamp,value'];
  for (const s of series) for (const i of s.items) lines.push([s.name, i.timestamp, i.value].map(cell).join(','));
  return `${lines.join('\n')}\n`;
}

export function TrendsPage() {
  const { t } = useI18n();
  const { client } = useTagway();
  const [params, setParams] = useSearchParams();
  const tags = (params.get('tags') ?? '').split(',').filter(Boolean);
  const rangeMs = Number(params.get('range') ?? 3_600_000);
  const endParam = params.get('end');
  const end = endParam ? Number(endParam) : undefined;
  const [available, setAvailable] = useState<TagInfo[]>([]);
  const data = useRef<Array<{ name: string; items: HistoryResult['items'] }>>([]);
  useEffect(() => {
    void client.allTags().then(
      (all) => setAvailable(all.filter((x) => x.history)),
      () => undefined,
    );
  }, [client]);
  const set = (k: string, v: string | undefined) =>
    setParams(
      (p) => {
        if (v === undefined) p.delete(k);
        else p.set(k, v);
        return p;
      },
      { replace: true },
    );
  const pan = (dir: -1 | 1) => {
    const e = (end ?? Date.now()) + (dir * rangeMs) / 2;
    set('end', e >= Date.now() ? undefined : String(Math.round(e)));
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([toCsv(data.current)], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'trend.csv';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section>
      <h1>{t.trends}</h1>
      <div className="toolbar wrap">
        <label>
          {t.addTag}
          <select value="" onChange={(e) => e.target.value && set('tags', [...tags, e.target.value].join(','))}>
            <option value="">…</option>
            {available
              .filter((x) => !tags.includes(x.name))
              .map((x) => (
                <option key={x.name}>{x.name}</option>
              ))}
          </select>
        </label>
        {tags.map((name) => (
          <button
            key={name}
            type="button"
            className="chip"
            aria-label={`Remove ${name}`}
            onClick={() => set('tags', tags.filter((x) => x !== name).join(',') || undefined)}
          >
            {name} ✕
          </button>
        ))}
      </div>
      <div className="toolbar wrap" role="group" aria-label={t.range}>
        {PRESETS.map(([label, ms]) => (
          <button key={ms} type="button" aria-pressed={ms === rangeMs} onClick={() => set('range', String(ms))}>
            {label}
          </button>
        ))}
        <label>
          {t.to}
          <input type="datetime-local" onChange={(e) => set('end', e.target.value ? String(Date.parse(e.target.value)) : undefined)} />
        </label>
        <button type="button" aria-label="Earlier" onClick={() => pan(-1)}>
          ◀
        </button>
        <button type="button" aria-label="Later" onClick={() => pan(1)}>
          ▶
        </button>
        <button type="button" onClick={download} disabled={tags.length === 0}>
          {t.downloadCsv}
        </button>
      </div>
      {tags.length > 0 ? (
        <TrendChart tags={tags} rangeMs={rangeMs} end={end} height={360} onData={(d) => (data.current = d)} />
      ) : (
        <p className="muted">{t.addTag} …</p>
      )}
    </section>
  );
}
