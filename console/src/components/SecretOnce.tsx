import { useId, useState } from 'react';

/** A secret the API shows once (a key, a SCIM token, a sink secret): copy it now or lose it. */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone(): void }) {
  const id = useId();
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('Copied to the clipboard.');
    } catch {
      (document.getElementById(id) as HTMLInputElement | null)?.select();
      setCopied('Press Ctrl+C (or ⌘C) to copy the selected value.');
    }
  };
  return (
    <section className="secret" aria-label={label}>
      <p>
        <strong>{label}</strong>: shown only this once. Copy it now and keep it somewhere safe.
      </p>
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
    </section>
  );
}
