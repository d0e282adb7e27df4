import { useId } from 'react';
import { useI18n } from '../../i18n.js';
import { grantProblems, isTagPermission, PERMISSIONS, type GrantRow } from './forms.js';

export interface GrantEditorProps {
  rows: GrantRow[];
  onChange: (rows: GrantRow[]) => void;
}

/**
 * A group's grants: one row per grant with a permission picker and a tag-scope glob (only for permissions about
 * tags; empty means all tags). Each row says what is wrong with it, with the server's own rules.
 */
export function GrantEditor({ rows, onChange }: GrantEditorProps) {
  const { t } = useI18n();
  const id = useId();
  const problems = grantProblems(rows, t);
  const set = (i: number, r: Partial<GrantRow>) => onChange(rows.map((x, j) => (j === i ? { ...x, ...r } : x)));
  return (
    <fieldset className="grants">
      <legend>{t.adminGrants}</legend>
      {rows.length === 0 && <p className="muted">{t.adminNoGrants}</p>}
      {rows.map((r, i) => {
        const scoped = isTagPermission(r.permission);
        const err = problems.rows[i];
        const errId = `${id}-e${i}`;
        return (
          // Rows have no identity but their place; every input is controlled, so a removed row cannot leave a stale value.
          <div key={i} className="grant-row" role="group" aria-label={`${t.adminPermission} ${i + 1}`}>
            <label>
              {t.adminPermission}
              <select value={r.permission} onChange={(e) => set(i, { permission: e.target.value as GrantRow['permission'] })}>
                {PERMISSIONS.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </label>
            <label className="grow">
              {t.adminTagScope}
              <input
                value={r.tags}
                maxLength={300}
                placeholder={scoped ? t.adminAllTags : '—'}
                disabled={!scoped && r.tags === ''}
                aria-invalid={err !== undefined}
                aria-describedby={err ? errId : undefined}
                onChange={(e) => set(i, { tags: e.target.value })}
              />
            </label>
            <button
              type="button"
              aria-label={`${t.adminRemoveGrant.replace('{n}', String(i + 1))}`}
              onClick={() => onChange(rows.filter((_, j) => j !== i))}
            >
              ✕
            </button>
            {err && (
              <p id={errId} className="error grant-problem">
                {err}
              </p>
            )}
          </div>
        );
      })}
      {problems.list && <p className="error">{problems.list}</p>}
      <button type="button" onClick={() => onChange([...rows, { permission: 'tags:read', tags: '' }])}>
        {t.adminAddGrant}
      </button>
    </fieldset>
  );
}
