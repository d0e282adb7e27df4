import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import type { LiveValue, TagInfo } from '../../../client/src/index.js';
import { useTags, useTagway } from '../../../client/src/react.js';
import { compileGlob } from '../../../src/domain/glob.js';
import { useAuth } from '../auth.js';
import { QualityBadge } from '../components/quality.js';
import { VirtualList } from '../components/virtual-list.js';
import { WriteDialog } from '../components/write-dialog.js';
import { formatTime, formatValue } from '../format.js';
import { useI18n } from '../i18n.js';

const TrendChart = lazy(() => import('../components/trend-chart.js').then((m) => ({ default: m.TrendChart })));

/** Glob when it has a wildcard (the API's `*` and `**`), else free text on name and description. */
function matcher(filter: string): (t: TagInfo) => boolean {
  const f = filter.trim();
  if (!f) return () => true;
  if (f.includes('*')) {
    try {
      const m = compileGlob(f);
      return (t) => m(t.name);
    } catch {
      return () => false;
    }
  }
  const lower = f.toLowerCase();
  return (t) => t.name.toLowerCase().includes(lower) || (t.description ?? '').toLowerCase().includes(lower);
}

export function TagsPage() {
  const { t } = useI18n();
  const { client } = useTagway();
  const { rights } = useAuth();
  const [params, setParams] = useSearchParams();
  const filter = params.get('filter') ?? '';
  const [tags, setTags] = useState<TagInfo[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [sort, setSort] = useState<'name' | 'changed'>('name');
  const [selected, setSelected] = useState<string | undefined>(params.get('tag') ?? undefined);
  const [writing, setWriting] = useState<TagInfo | undefined>();
  useEffect(() => {
    client.allTags().then(setTags, (e: Error) => setError(e.message));
  }, [client]);
  const values = useTags(['**']);
  const shown = useMemo(() => {
    const list = (tags ?? []).filter(matcher(filter));
    if (sort === 'changed') list.sort((a, b) => (values.get(b.name)?.timestamp ?? '').localeCompare(values.get(a.name)?.timestamp ?? ''));
    return list;
    // Sorting by change time follows the values; by name it does not need to.
  }, [tags, filter, sort, sort === 'changed' ? values : undefined]);
  const mayWrite = (tag: TagInfo) => tag.access === 'readwrite' && rights.can('tags:write', tag.name);
  const detail = tags?.find((x) => x.name === selected);
  return (
    <section className="tags-page">
      <h1>{t.tags}</h1>
      <div className="toolbar">
        <label className="grow">
          <span className="sr-only">{t.filterTags}</span>
          <input
            type="search"
            aria-label={t.filterTags}
            placeholder={`${t.filterTags} (Line1.** …)`}
            value={filter}
            onChange={(e) =>
              setParams((p) => (e.target.value ? (p.set('filter', e.target.value), p) : (p.delete('filter'), p)), { replace: true })
            }
          />
        </label>
        <label>
          <span className="sr-only">Sort</span>
          <select value={sort} onChange={(e) => setSort(e.target.value as 'name' | 'changed')} aria-label="Sort">
            <option value="name">{t.name}</option>
            <option value="changed">{t.changed}</option>
          </select>
        </label>
        <span className="muted">
          {shown.length} {t.tagsCount}
        </span>
      </div>
      {error && <p role="alert">{error}</p>}
      {!tags && !error && <p className="muted">{t.loading}</p>}
      <div className="tags-layout">
        <div role="table" aria-label={t.tags} className="tag-table">
          <div role="rowgroup" className="thead">
            <div role="row" className="tag-row head">
              <span role="columnheader">{t.name}</span>
              <span role="columnheader">{t.value}</span>
              <span role="columnheader">{t.quality}</span>
              <span role="columnheader" className="hide-phone">
                {t.changed}
              </span>
              <span role="columnheader">
                <span className="sr-only">{t.write}</span>
              </span>
            </div>
          </div>
          <VirtualList
            label={t.tags}
            items={shown}
            rowHeight={52}
            render={(tag) => (
              <TagRow
                key={tag.name}
                tag={tag}
                value={values.get(tag.name)}
                canWrite={mayWrite(tag)}
                onSelect={() => setSelected(tag.name)}
                onWrite={() => setWriting(tag)}
                selected={selected === tag.name}
              />
            )}
          />
        </div>
        {detail && (
          <aside className="detail card" aria-label={detail.name}>
            <div className="detail-head">
              <h2>{detail.name}</h2>
              <button type="button" onClick={() => setSelected(undefined)}>
                {t.close}
              </button>
            </div>
            <dl>
              <dt>{t.value}</dt>
              <dd>
                {formatValue(values.get(detail.name), detail.type)} {detail.unit} <QualityBadge value={values.get(detail.name)} />
              </dd>
              <dt>{t.description}</dt>
              <dd>{detail.description ?? '—'}</dd>
              <dt>{t.type}</dt>
              <dd>
                {detail.type} · {detail.access}
              </dd>
              <dt>{t.limits}</dt>
              <dd>{detail.min !== undefined || detail.max !== undefined ? `${detail.min ?? '…'} – ${detail.max ?? '…'}` : '—'}</dd>
            </dl>
            {detail.history && rights.can('history:read', detail.name) && (
              <Suspense fallback={<p className="muted">…</p>}>
                <TrendChart tags={[detail.name]} rangeMs={3_600_000} height={180} />
              </Suspense>
            )}
            {mayWrite(detail) && (
              <button type="button" className="primary" onClick={() => setWriting(detail)}>
                {t.write}
              </button>
            )}
          </aside>
        )}
      </div>
      {writing && (
        <WriteDialog
          tag={writing}
          current={values.get(writing.name)}
          write={(v) => client.writeTag(writing.name, v)}
          onClose={() => setWriting(undefined)}
        />
      )}
    </section>
  );
}

function TagRow(props: {
  tag: TagInfo;
  value: LiveValue | undefined;
  canWrite: boolean;
  selected: boolean;
  onSelect: () => void;
  onWrite: () => void;
}) {
  const { tag, value } = props;
  return (
    <div
      role="row"
      className={`tag-row${props.selected ? ' selected' : ''}${value?.stale ? ' stale' : ''}`}
      aria-label={`${tag.name} ${formatValue(value, tag.type)} ${tag.unit ?? ''}`}
    >
      <span role="cell" className="name">
        <button type="button" className="link" onClick={props.onSelect} title={tag.description}>
          {tag.name}
        </button>
      </span>
      <span role="cell" className="value" data-tag={tag.name}>
        {formatValue(value, tag.type)} <small>{tag.unit}</small>
      </span>
      <span role="cell">
        <QualityBadge value={value} />
      </span>
      <span role="cell" className="hide-phone muted">
        {formatTime(value?.timestamp)}
      </span>
      <span role="cell">
        {props.canWrite && (
          <button type="button" className="write" aria-label={`Write ${tag.name}`} onClick={props.onWrite}>
            ✎
          </button>
        )}
      </span>
    </div>
  );
}
