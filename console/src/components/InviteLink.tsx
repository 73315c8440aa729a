import { useId } from 'react';
import { CopyRow } from './CopyRow';
import type { Invite } from '../api/types';

/** The link of an invite just sent, shown to the inviter until dismissed (as PostHog shows it), with a copy button. */
export function InviteLink({ invite, onDone }: { invite: Invite; onDone(): void }) {
  const id = useId();
  const link = `${location.origin}/signup/${invite.id}`;
  return (
    <section className="secret" aria-label={`Invite link for ${invite.target_email}`} ref={(el) => el?.scrollIntoView({ block: 'nearest' })}>
      <p>
        <strong>Invite link for {invite.target_email}</strong>: send it to them; it works until {new Date(invite.expires_at).toLocaleString()}.{' '}
        {invite.emailing_attempt_made ? 'It is also on its way to them by email.' : 'Warden sends no email (no SMTP server is configured).'}
      </p>
      <CopyRow id={id} label="Invite link" value={link} what="link" onDone={onDone} />
    </section>
  );
}
