import { TextField } from './Field';

/** A time-bound grant's expiry and reason, beside the grant in a list (nothing for a lasting grant without reason). */
export function ExpiryNote({ expiresAt, reason }: { expiresAt: string | null | undefined; reason?: string | null | undefined }) {
  if (!expiresAt && !reason) return null;
  return (
    <span className="grant-terms">
      {expiresAt ? (
        <span className="badge expiring" title={new Date(expiresAt).toISOString()}>
          expires {new Date(expiresAt).toLocaleString()}
        </span>
      ) : null}
      {reason ? <span className="muted"> · {reason}</span> : null}
    </span>
  );
}

/** The optional "expires" field of a form that adds a grant (a local date and time; empty = lasting). */
export function ExpiryField({
  value,
  onChange,
  label = 'Expires (optional)',
  hint = 'Leave empty for a lasting grant.',
}: {
  value: string;
  onChange(value: string): void;
  label?: string;
  hint?: string;
}) {
  return <TextField label={label} name="expires_at" type="datetime-local" value={value} onChange={(e) => onChange(e.target.value)} hint={hint} />;
}

/** The request fields of an expiry field's value: nothing when empty. */
export function expiryBody(local: string): { expires_at?: string } {
  return local ? { expires_at: new Date(local).toISOString() } : {};
}
