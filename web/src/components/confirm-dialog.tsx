import { useState } from 'react';
import { useI18n } from '../i18n.js';
import { Modal } from './modal.js';

export interface ConfirmDialogProps {
  title: string;
  message: string;
  confirmLabel: string;
  /** Does the deed; a rejection's message (the server's problem detail) is shown and the dialog stays open. */
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}

/** Asks before a change that cannot be undone (delete, revoke) and shows the server's refusal in place. */
export function ConfirmDialog({ title, message, confirmLabel, onConfirm, onClose }: ConfirmDialogProps) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setProblem((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal title={title} onClose={onClose}>
      <p>{message}</p>
      {problem && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      <div className="buttons">
        <button type="button" onClick={onClose}>
          {t.cancel}
        </button>
        <button type="button" className="primary" disabled={busy} onClick={() => void confirm()}>
          {confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
