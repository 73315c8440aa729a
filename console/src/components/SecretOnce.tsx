import { useEffect, useId, useRef } from 'react';
import { CopyRow } from './CopyRow';

/**
 * A secret the API shows once (a key, a SCIM token, a sink secret): copy it now or lose it. It comes
 * into view with its value selected (the form that made it may be far down the page), and stays
 * until "Done", whatever else is done on the page meanwhile.
 */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone(): void }) {
  const id = useId();
  const section = useRef<HTMLElement>(null);
  useEffect(() => {
    section.current?.scrollIntoView({ block: 'center' });
    (document.getElementById(id) as HTMLInputElement | null)?.focus({ preventScroll: true });
  }, [id, value]);
  return (
    <section className="secret" aria-label={label} ref={section}>
      <p>
        <strong>{label}</strong>: shown only this once. Copy it now and keep it somewhere safe.
      </p>
      <CopyRow id={id} label={label} value={value} what="value" onDone={onDone} />
    </section>
  );
}
