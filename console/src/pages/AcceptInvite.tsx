import { useState, type FormEvent } from 'react';
import { get, post } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import { TextField } from '../components/Field';
import { FieldErrors } from '../components/FieldErrors';
import { useAction, useLoad } from '../components/useLoad';
import { navigate } from '../router';
import { useSessionState } from '../session';

interface InviteFacts {
  id: string;
  target_email: string;
  first_name: string;
  organization_name: string;
  sso_enforcement: string | null;
}

/**
 * `/signup/<invite_id>`: the page an invite link opens. A new person picks a name and a password
 * (or, where their domain enforces single sign-on, continues with it); someone already signed in
 * joins with their account. An expired or unknown invite says so in the API's words.
 */
export function AcceptInvite({ inviteId }: { inviteId: string }) {
  const { session, reload } = useSessionState();
  const facts = useLoad(() => get<InviteFacts>(`/api/signup/${encodeURIComponent(inviteId)}/`), [inviteId]);
  const [form, setForm] = useState({ first_name: '', password: '' });
  const action = useAction();
  const invite = facts.data;

  const join = async (body: object) => {
    if (await action.run(() => post(`/api/signup/${encodeURIComponent(inviteId)}/`, body))) {
      await reload();
      navigate('/members', true);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void join(session ? {} : { first_name: form.first_name.trim() || invite?.first_name || '', password: form.password });
  };

  let body;
  if (facts.error) body = <ErrorMessage error={facts.error} />;
  else if (!invite) body = <p role="status">Loading the invite…</p>;
  else if (session) {
    body = (
      <form onSubmit={submit} className="card" aria-label="Join with your account">
        <p>
          You are signed in as <strong>{session.me.email}</strong>.
        </p>
        <ErrorMessage error={action.error} />
        <button type="submit" disabled={action.busy}>
          Join {invite.organization_name}
        </button>
      </form>
    );
  } else if (invite.sso_enforcement) {
    const start = `/login/${invite.sso_enforcement}/?email=${encodeURIComponent(invite.target_email)}`;
    body = (
      <div className="card">
        <p>
          {invite.target_email} signs in with single sign-on ({invite.sso_enforcement.toUpperCase()}): your identity provider creates your account.
        </p>
        <a className="button" href={start}>
          Continue with single sign-on
        </a>
      </div>
    );
  } else {
    body = (
      <form onSubmit={submit} className="card" aria-label="Create your account">
        <TextField label="Email" type="email" readOnly value={invite.target_email} hint="The invite is for this address." />
        <TextField
          label="Your name"
          name="first_name"
          autoComplete="given-name"
          required
          value={form.first_name || invite.first_name}
          onChange={(e) => setForm({ ...form, first_name: e.target.value })}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
          hint="At least 8 characters."
        />
        <ErrorMessage error={action.error} />
        <button type="submit" disabled={action.busy}>
          Join {invite.organization_name}
        </button>
      </form>
    );
  }

  return (
    <main className="center auth">
      <h1>{invite ? `Join ${invite.organization_name} on Warden` : 'Accept your invite'}</h1>
      <FieldErrors error={action.error}>{body}</FieldErrors>
    </main>
  );
}
