// A modal confirmation for destructive actions (revoke, decommission, ending a session).
import { type ReactNode, useEffect, useRef } from 'react';

interface ConfirmDialogProps {
  readonly title: string;
  readonly children: ReactNode;
  readonly confirmLabel: string;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}

export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onCancel }: ConfirmDialogProps) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={dialogRef}
      className="dialog"
      aria-labelledby="confirm-title"
      onCancel={onCancel}
      data-testid="confirm-dialog"
    >
      <h2 id="confirm-title">{title}</h2>
      <div>{children}</div>
      <div className="button-row">
        <button type="button" className="button secondary" onClick={onCancel} data-testid="confirm-cancel">
          Cancel
        </button>
        <button type="button" className="button danger" onClick={onConfirm} data-testid="confirm-accept">
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
