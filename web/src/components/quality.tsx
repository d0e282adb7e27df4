import type { LiveValue } from '../../../client/src/index.js';
import { useI18n } from '../i18n.js';

/** Quality as a word and a shape, not colour alone; stale values (connection lost) say so. */
export function QualityBadge(props: { value: LiveValue | undefined }) {
  const { t } = useI18n();
  const v = props.value;
  if (!v) return <span className="q">…</span>;
  if (v.stale)
    return (
      <span className="q q-stale" title={t.stale}>
        ⌛ STALE
      </span>
    );
  const icon = v.quality === 'GOOD' ? '●' : v.quality === 'UNCERTAIN' ? '▲' : '✕';
  return (
    <span className={`q q-${v.quality.toLowerCase()}`} title={v.subStatus}>
      {icon} {v.quality}
    </span>
  );
}
