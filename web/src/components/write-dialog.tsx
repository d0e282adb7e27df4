import { useEffect, useId, useRef, useState } from 'react';
import type { LiveValue, TagInfo } from '../../../client/src/index.js';
import { formatValue } from '../format.js';
import { useI18n } from '../i18n.js';
import { inputKind, parseInput } from './validate.js';

/** The value as the input shows it (datetime-local wants local time without zone). */
function initialText(type: string, v: LiveValue | undefined): string | boolean {
  if (!v) return inputKind(type) === 'switch' ? false : '';
  if (inputKind(type) === 'switch') return v.value === true;
  if (type === 'DateTime' && typeof v.value === 'string') {
    const d = new Date(v.value);
    const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
    return local.toISOString().slice(0, 19);
  }
  return String(v.value);
}

export interface WriteDialogProps {
  tag: Pick<TagInfo, 'name' | 'type' | 'unit' | 'min' | 'max'>;
  current: LiveValue | undefined;
  /** Sends the value; rejects with the server's problem (its message is shown). */
  write: (value: unknown) => Promise<unknown>;
  onClose: () => void;
}

/**
 * Type-aware write: the input suits the type, the value is checked as the server would, a review step shows
 * old → new, and a refusal shows the server's problem detail.
 */
export function WriteDialog({ tag, current, write, onClose }: WriteDialogProps) {
  const { t } = useI18n();
  const titleId = useId();
  const hintId = useId();
  const kind = inputKind(tag.type);
  const [raw, setRaw] = useState<string | boolean>(() => initialText(tag.type, current));
  const [step, setStep] = useState<'edit' | 'review' | 'sending'>('edit');
  const [refusal, setRefusal] = useState<string | undefined>();
  const parsed = parseInput(tag.type, raw, { min: tag.min, max: tag.max });
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  useEffect(() => {
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', esc);
    return () => window.removeEventListener('keydown', esc);
  }, [onClose]);

  const confirm = async () => {
    if (!parsed.ok) return;
    setStep('sending');
    setRefusal(undefined);
    try {
      await write(parsed.value);
      onClose();
    } catch (err) {
      setRefusal((err as Error).message);
      setStep('review');
    }
  };

  const range =
    tag.min !== undefined || tag.max !== undefined ? `${tag.min ?? '…'} – ${tag.max ?? '…'}${tag.unit ? ` ${tag.unit}` : ''}` : '';
  return (
    <div className="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div role="dialog" aria-modal="true" aria-labelledby={titleId} className="dialog card">
        <h2 id={titleId}>
          {t.writeTitle} {tag.name}
        </h2>
        <p className="muted">
          {tag.type}
          {range ? ` · ${range}` : ''}
        </p>
        {step === 'edit' ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (parsed.ok) setStep('review');
            }}
          >
            <label className={kind === 'switch' ? 'switch-label' : undefined}>
              {t.value}
              {kind === 'switch' ? (
                <input
                  ref={first}
                  type="checkbox"
                  role="switch"
                  checked={raw === true}
                  onChange={(e) => setRaw(e.target.checked)}
                  aria-describedby={hintId}
                />
              ) : kind === 'number' ? (
                <input
                  ref={first}
                  type="text"
                  inputMode="decimal"
                  value={String(raw)}
                  onChange={(e) => setRaw(e.target.value)}
                  aria-invalid={!parsed.ok}
                  aria-describedby={hintId}
                  {...(typeof tag.min === 'number' ? { 'data-min': tag.min } : {})}
                  {...(typeof tag.max === 'number' ? { 'data-max': tag.max } : {})}
                />
              ) : kind === 'datetime' ? (
                <input
                  ref={first}
                  type="datetime-local"
                  step="1"
                  value={String(raw)}
                  onChange={(e) => setRaw(e.target.value)}
                  aria-invalid={!parsed.ok}
                  aria-describedby={hintId}
                />
              ) : (
                <input
                  ref={first}
                  type="text"
                  inputMode={kind === 'integer-text' ? 'numeric' : 'text'}
                  value={String(raw)}
                  onChange={(e) => setRaw(e.target.value)}
                  aria-invalid={!parsed.ok}
                  aria-describedby={hintId}
                />
              )}
            </label>
            <p id={hintId} className={parsed.ok ? 'muted' : 'error'} aria-live="polite">
              {parsed.ok ? '\u00a0' : parsed.message}
            </p>
            <div className="buttons">
              <button type="button" onClick={onClose}>
                {t.cancel}
              </button>
              <button type="submit" className="primary" disabled={!parsed.ok}>
                {t.review}
              </button>
            </div>
          </form>
        ) : (
          <div>
            <p className="change">
              <span>{formatValue(current, tag.type)}</span> →{' '}
              <strong>{parsed.ok ? formatValue({ value: parsed.value }, tag.type) : ''}</strong>
              {tag.unit ? ` ${tag.unit}` : ''}
            </p>
            {refusal && (
              <p role="alert" className="error">
                {t.writeRefused}: {refusal}
              </p>
            )}
            <div className="buttons">
              <button type="button" onClick={() => setStep('edit')} disabled={step === 'sending'}>
                {t.back}
              </button>
              <button type="button" onClick={onClose}>
                {t.cancel}
              </button>
              <button type="button" className="primary" onClick={() => void confirm()} disabled={step === 'sending'}>
                {t.confirm}
              </button>
            </div>
          </div>
        )}
      </div>
    </div>
  );
}
