import { useId, useState } from 'react';
import type { Invite } from '../api/types';

/** The link of an invite just sent, shown to the inviter until dismissed (as PostHog shows it), with a copy button. */
export function InviteLink({ invite, onDone }: { invite: Invite; onDone(): void }) {
  const id = useId();
  const [copied, setCopied] = useState<string | null>(null);
  const link = `${location.origin}/signup/${invite.id}`;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied('Copied to the clipboard.');
    } catch {
      (document.getElementById(id) as HTMLInputElement | null)?.select();
      setCopied('Press Ctrl+C (or ⌘C) to copy the selected link.');
    }
  };
  return (
    <section className="secret" aria-label={`Invite link for ${invite.target_email}`} ref={(el) => el?.scrollIntoView({ block: 'nearest' })}>
      <p>
        <strong>Invite link for {invite.target_email}</strong>: send it to them; it works until{' '}
        {new Date(invite.expires_at).toLocaleString()}.{' '}
        {invite.emailing_attempt_made ? 'It is also on its way to them by email.' : 'Warden sends no email (no SMTP server is configured).'}
      </p>
      <div className="secret-row">
        <label htmlFor={id} className="visually-hidden">
          Invite link
        </label>
        <input id={id} className="mono" readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
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
