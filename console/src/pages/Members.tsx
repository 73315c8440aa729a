import { useState, type FormEvent } from 'react';
import { all, del, patch, post } from '../api/client';
import type { Invite, Member } from '../api/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { SelectField, TextField } from '../components/Field';
import { ExpiryField, ExpiryNote, expiryBody } from '../components/GrantExpiry';
import { GuardedButton } from '../components/GuardedButton';
import { FieldErrors } from '../components/FieldErrors';
import { InviteLink } from '../components/InviteLink';
import { useAction, useLoad } from '../components/useLoad';
import { inviteDenial, LEVEL_NAMES, levelName, membershipUpdateDenial, OrganizationLevel, OWNER_CANNOT_LEAVE } from '../rules';
import { useSession } from '../session';

const LEVELS = [OrganizationLevel.MEMBER, OrganizationLevel.ADMIN, OrganizationLevel.OWNER];

/** Members: invite at a level, change levels, remove, with the server's rules on every control. */
export function Members() {
  const { organization, me, level: myLevel, reload: reloadSession } = useSession();
  const orgId = organization?.id ?? '';
  const members = useLoad(() => all<Member>(`/api/organizations/${orgId}/members/`), [orgId]);
  const invites = useLoad(() => all<Invite>(`/api/organizations/${orgId}/invites/`), [orgId]);
  const action = useAction();
  const [invite, setInvite] = useState({ target_email: '', level: OrganizationLevel.MEMBER as number });
  const [sent, setSent] = useState<Invite | null>(null);
  const [raise, setRaise] = useState({ user_uuid: '', expires: '', reason: '' });

  if (!organization) return <h1>Members</h1>;
  const requester = { userId: me.id, organizationId: orgId, level: myLevel };
  const factsOf = (m: Member) => ({ userId: m.user.id, organizationId: orgId, level: m.level });
  const inviteBlocked = inviteDenial(myLevel, OrganizationLevel.MEMBER, organization.members_can_invite);

  const sendInvite = async (e: FormEvent) => {
    e.preventDefault();
    setSent(null);
    const ok = await action.run(async () => setSent(await post<Invite>(`/api/organizations/${orgId}/invites/`, invite)), `Invited ${invite.target_email}.`);
    if (ok) {
      setInvite({ ...invite, target_email: '' });
      await invites.reload();
    }
  };

  const changeLevel = (m: Member, level: number) =>
    action.run(
      async () => {
        await patch(`/api/organizations/${orgId}/members/${m.user.uuid}/`, { level });
        await members.reload();
      },
      `${m.user.email} is now ${levelName(level)}.`,
    );

  const raiseFor = async (e: FormEvent) => {
    e.preventDefault();
    const body = { level: OrganizationLevel.ADMIN, ...expiryBody(raise.expires), ...(raise.reason ? { reason: raise.reason } : {}) };
    const ok = await action.run(() => patch(`/api/organizations/${orgId}/members/${raise.user_uuid}/`, body), 'Raised to Admin until the expiry.');
    if (ok) {
      setRaise({ user_uuid: '', expires: '', reason: '' });
      await members.reload();
    }
  };

  const remove = (m: Member) =>
    action.run(async () => {
      await del(`/api/organizations/${orgId}/members/${m.user.uuid}/`);
      if (m.user.id === me.id) await reloadSession();
      else await members.reload();
    }, `${m.user.email} was removed.`);

  const cancelInvite = (i: Invite) =>
    action.run(async () => {
      await del(`/api/organizations/${orgId}/invites/${i.id}/`);
      await invites.reload();
    }, `Invite for ${i.target_email} cancelled.`);

  const removalDenial = (m: Member) => {
    if (m.user.id === me.id) return m.level >= OrganizationLevel.OWNER ? OWNER_CANNOT_LEAVE : null;
    return membershipUpdateDenial(requester, factsOf(m));
  };

  return (
    <FieldErrors error={action.error}>
      <h1>Members</h1>
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>

      <form onSubmit={(e) => void sendInvite(e)} className="card inline-form" aria-labelledby="invite-heading">
        <h2 id="invite-heading">Invite someone</h2>
        <TextField
          label="Email"
          name="target_email"
          type="email"
          required
          value={invite.target_email}
          onChange={(e) => setInvite({ ...invite, target_email: e.target.value })}
        />
        <SelectField
          label="Level"
          name="level"
          value={invite.level}
          onChange={(e) => setInvite({ ...invite, level: Number(e.target.value) })}
          disabledReason={inviteBlocked}
        >
          {LEVELS.map((l) => {
            const why = inviteDenial(myLevel, l, organization.members_can_invite);
            return (
              <option key={l} value={l} disabled={Boolean(why)} title={why ?? undefined}>
                {LEVEL_NAMES[l]}
              </option>
            );
          })}
        </SelectField>
        <GuardedButton type="submit" disabledReason={inviteBlocked} disabled={action.busy}>
          Send invite
        </GuardedButton>
      </form>
      {sent ? <InviteLink invite={sent} onDone={() => setSent(null)} /> : null}

      <form onSubmit={(e) => void raiseFor(e)} className="card inline-form" aria-labelledby="raise-heading">
        <h2 id="raise-heading">Raise to Admin for a while</h2>
        <SelectField
          label="Member"
          value={raise.user_uuid}
          required
          disabledReason={myLevel < OrganizationLevel.ADMIN ? 'You can only edit others if you are an admin.' : null}
          onChange={(e) => setRaise({ ...raise, user_uuid: e.target.value })}
        >
          <option value="">Choose…</option>
          {(members.data ?? [])
            .filter((m) => m.level === OrganizationLevel.MEMBER && m.user.id !== me.id)
            .map((m) => (
              <option key={m.user.uuid} value={m.user.uuid}>
                {m.user.email}
              </option>
            ))}
        </SelectField>
        <ExpiryField
          label="Expires"
          hint="The member is Admin until then, and Member again afterwards."
          value={raise.expires}
          onChange={(expires) => setRaise({ ...raise, expires })}
        />
        <TextField label="Reason" name="reason" value={raise.reason} onChange={(e) => setRaise({ ...raise, reason: e.target.value })} />
        <GuardedButton type="submit" disabledReason={raise.expires ? null : 'Choose when the raise ends.'} disabled={action.busy}>
          Raise
        </GuardedButton>
      </form>

      <section aria-labelledby="members-heading">
        <h2 id="members-heading">People ({members.data?.length ?? '…'})</h2>
        <ErrorMessage error={members.error} />
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Level</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {(members.data ?? []).map((m) => {
                const editDenial = membershipUpdateDenial(requester, factsOf(m));
                const self = m.user.id === me.id;
                return (
                  <tr key={m.id}>
                    <td>
                      {[m.user.first_name, m.user.last_name].filter(Boolean).join(' ') || '—'}
                      {m.is_service_account ? <span className="badge">service account</span> : null}
                      {self ? <span className="badge">you</span> : null}
                    </td>
                    <td>{m.user.email}</td>
                    <td>
                      <SelectField
                        label={`Level of ${m.user.email}`}
                        hideLabel
                        value={m.level}
                        disabledReason={self ? membershipUpdateDenial(requester, requester, m.level) : editDenial}
                        onChange={(e) => void changeLevel(m, Number(e.target.value))}
                      >
                        {LEVELS.map((l) => {
                          const why = l === m.level ? null : membershipUpdateDenial(requester, factsOf(m), l);
                          return (
                            <option key={l} value={l} disabled={Boolean(why)} title={why ?? undefined}>
                              {LEVEL_NAMES[l]}
                            </option>
                          );
                        })}
                      </SelectField>
                      <ExpiryNote expiresAt={m.expires_at} reason={m.reason} />
                      {m.level_after_expiry !== null ? <span className="muted"> · then {levelName(m.level_after_expiry)}</span> : null}
                    </td>
                    <td>
                      <GuardedButton
                        className="danger"
                        disabledReason={removalDenial(m)}
                        onClick={() => void remove(m)}
                        aria-label={self ? 'Leave the organization' : `Remove ${m.user.email}`}
                      >
                        {self ? 'Leave' : 'Remove'}
                      </GuardedButton>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="invites-heading">
        <h2 id="invites-heading">Pending invites</h2>
        <ErrorMessage error={invites.error} />
        {invites.data && invites.data.length === 0 ? <p>No pending invites.</p> : null}
        <ul className="plain-list">
          {(invites.data ?? []).map((i) => (
            <li key={i.id}>
              <span>
                {i.target_email} · {levelName(i.level)} · {i.is_expired ? 'expired' : `expires ${new Date(i.expires_at).toLocaleDateString()}`}
              </span>
              <GuardedButton
                className="secondary"
                disabledReason={inviteDenial(myLevel, i.level, organization.members_can_invite)}
                onClick={() => void cancelInvite(i)}
                aria-label={`Cancel the invite for ${i.target_email}`}
              >
                Cancel
              </GuardedButton>
            </li>
          ))}
        </ul>
      </section>
    </FieldErrors>
  );
}
