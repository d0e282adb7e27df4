import type { ReactNode } from 'react';
import { useI18n } from '../../i18n.js';

/** The outcome of the last action of a section: a refusal (the server's problem detail) or a confirmation. */
export type Notice = { kind: 'error' | 'ok'; text: string } | undefined;

export function NoticeLine({ notice }: { notice: Notice }) {
  if (!notice) return null;
  return notice.kind === 'error' ? (
    <p role="alert" className="error">
      {notice.text}
    </p>
  ) : (
    <p role="status">{notice.text}</p>
  );
}

/** A refusal or load failure in words, or nothing. */
export function ErrorLine({ text }: { text: string | undefined }) {
  if (!text) return null;
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}

/** The foot of an editing dialog: what the server refused, then Cancel and Save (the form's submit). */
export function DialogFooter({
  problem,
  onCancel,
  saveDisabled,
}: {
  problem: string | undefined;
  onCancel: () => void;
  saveDisabled?: boolean;
}) {
  const { t } = useI18n();
  return (
    <>
      <ErrorLine text={problem} />
      <div className="buttons">
        <button type="button" onClick={onCancel}>
          {t.cancel}
        </button>
        <button type="submit" className="primary" disabled={saveDisabled}>
          {t.save}
        </button>
      </div>
    </>
  );
}

/**
 * One Administration section: a card named by its heading, with what went wrong loading it and the outcome of its
 * last action above its content.
 */
export function AdminSection({
  id,
  title,
  error,
  notice,
  children,
}: {
  id: string;
  title: string;
  error?: string | undefined;
  notice?: Notice;
  children: ReactNode;
}) {
  return (
    <section aria-labelledby={id} className="card">
      <h2 id={id}>{title}</h2>
      <ErrorLine text={error} />
      <NoticeLine notice={notice} />
      {children}
    </section>
  );
}
