import { useState } from 'react';

/**
 * A read-only value with Copy and Done buttons and a status line: what the console shows for a
 * secret shown once (SecretOnce) and for an invite link (InviteLink). `id` is the input's, so that
 * the caller can focus it; `what` names the value in the fallback hint.
 */
export function CopyRow({ id, label, value, what, onDone }: { id: string; label: string; value: string; what: string; onDone(): void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('Copied to the clipboard.');
    } catch {
      (document.getElementById(id) as HTMLInputElement | null)?.select();
      setCopied(`Press Ctrl+C (or ⌘C) to copy the selected ${what}.`);
    }
  };
  return (
    <>
      <div className="secret-row">
        <label htmlFor={id} className="visually-hidden">
          {label}
        </label>
        <input id={id} className="mono" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Done
        </button>
      </div>
      <p role="status" className="status">
        {copied}
      </p>
    </>
  );
}
