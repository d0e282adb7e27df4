import { useI18n } from '../i18n.js';

export interface GroupPickerProps {
  /** Every group there is. */
  all: readonly string[];
  value: readonly string[];
  onChange: (groups: string[]) => void;
  legend?: string;
}

/** Group membership as one labelled checkbox per group (no names to type, none that does not exist). */
export function GroupPicker({ all, value, onChange, legend }: GroupPickerProps) {
  const { t } = useI18n();
  const chosen = new Set(value);
  // A membership the list does not know (a group deleted meanwhile) stays visible so that it can be removed.
  const names = [...new Set([...all, ...value])].sort();
  return (
    <fieldset className="group-picker">
      <legend>{legend ?? t.groups}</legend>
      {names.length === 0 && <span className="muted">{t.adminNoGroups}</span>}
      {names.map((g) => (
        <label key={g} className="check">
          <input
            type="checkbox"
            checked={chosen.has(g)}
            onChange={(e) => onChange(e.target.checked ? [...value, g] : value.filter((x) => x !== g))}
          />
          {g}
        </label>
      ))}
    </fieldset>
  );
}
