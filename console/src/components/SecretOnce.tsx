import { useEffect, useId, useRef, useState } from 'react';

/**
 * A secret the API shows once (a key, a SCIM token, a sink secret): copy it now or lose it. It comes
 * into view with its value selected (the form that made it may be far down the page), and stays
 * until "Done", whatever else is done on the page meanwhile.
 */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone(): void }) {
  const id = useId();
  const [copied, setCopied] = useState<string | null>(null);
  const section = useRef<HTMLElement>(null);
  useEffect(() => {
    section.current?.scrollIntoView({ block: 'center' });
    (document.getElementById(id) as HTMLInputElement | null)?.focus({ preventScroll: true });
  }, [id, value]);
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
    <section className="secret" aria-label={label} ref={section}>
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
