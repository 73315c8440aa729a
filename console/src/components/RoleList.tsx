import { useState, type FormEvent } from 'react';
import { del, post } from '../api/client';
import type { Member, Role } from '../api/types';
import { OrganizationLevel, ROLES_NEED_ADMIN } from '../rules';
import { useSession } from '../session';
import { ErrorMessage } from './ErrorMessage';
import { SelectField, TextField } from './Field';
import { ExpiryField, ExpiryNote, expiryBody } from './GrantExpiry';
import { GuardedButton } from './GuardedButton';
import { useAction } from './useLoad';

/** The organization's roles and their members (admins change them; members read). */
export function RoleList({ roles, members, onChanged }: { roles: Role[]; members: Member[]; onChanged(): void }) {
  const { organization, level } = useSession();
  const base = `/api/organizations/${organization?.id}/roles/`;
  const action = useAction();
  const [name, setName] = useState('');
  const [adding, setAdding] = useState<Record<string, string>>({});
  const [expiring, setExpiring] = useState<Record<string, string>>({});
  const denial = level < OrganizationLevel.ADMIN ? ROLES_NEED_ADMIN : null;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (await action.run(() => post(base, { name }), `Role ${name} created.`)) {
      setName('');
      onChanged();
    }
  };
  const run = async (work: () => Promise<unknown>, message: string) => {
    if (await action.run(work, message)) onChanged();
  };

  return (
    <section aria-labelledby="roles-heading" className="card">
      <h2 id="roles-heading">Roles</h2>
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      {roles.length === 0 ? <p>No roles yet.</p> : null}
      <ul className="role-list">
        {roles.map((role) => {
          const inRole = new Set(role.members.map((m) => m.user.uuid));
          const candidate = adding[role.id] ?? '';
          return (
            <li key={role.id} className="role">
              <div className="role-head">
                <h3>{role.name}</h3>
                <GuardedButton
                  className="danger"
                  disabledReason={denial}
                  onClick={() => void run(() => del(`${base}${role.id}/`), `Role ${role.name} deleted.`)}
                  aria-label={`Delete role ${role.name}`}
                >
                  Delete
                </GuardedButton>
              </div>
              <ul className="plain-list">
                {role.members.map((rm) => (
                  <li key={rm.id}>
                    <span>
                      {rm.user.email} <ExpiryNote expiresAt={rm.expires_at} reason={rm.reason} />
                    </span>
                    <GuardedButton
                      className="secondary"
                      disabledReason={denial}
                      onClick={() => void run(() => del(`${base}${role.id}/role_memberships/${rm.id}/`), `${rm.user.email} left ${role.name}.`)}
                      aria-label={`Remove ${rm.user.email} from ${role.name}`}
                    >
                      Remove
                    </GuardedButton>
                  </li>
                ))}
              </ul>
              <div className="inline-form">
                <SelectField
                  label={`Add a member to ${role.name}`}
                  value={candidate}
                  disabledReason={denial}
                  onChange={(e) => setAdding({ ...adding, [role.id]: e.target.value })}
                >
                  <option value="">Choose…</option>
                  {members
                    .filter((m) => !inRole.has(m.user.uuid))
                    .map((m) => (
                      <option key={m.user.uuid} value={m.user.uuid}>
                        {m.user.email}
                      </option>
                    ))}
                </SelectField>
                <ExpiryField
                  label={`Expires (optional) in ${role.name}`}
                  value={expiring[role.id] ?? ''}
                  onChange={(v) => setExpiring({ ...expiring, [role.id]: v })}
                />
                <GuardedButton
                  disabledReason={denial ?? (candidate ? null : 'Choose a member first.')}
                  onClick={() =>
                    void run(
                      () => post(`${base}${role.id}/role_memberships/`, { user_uuid: candidate, ...expiryBody(expiring[role.id] ?? '') }),
                      'Member added to the role.',
                    )
                  }
                >
                  Add to role
                </GuardedButton>
              </div>
            </li>
          );
        })}
      </ul>
      <form onSubmit={(e) => void create(e)} className="inline-form" aria-label="New role">
        <TextField
          label="New role name"
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
          disabled={Boolean(denial)}
          title={denial ?? undefined}
        />
        <GuardedButton type="submit" disabledReason={denial}>
          Create role
        </GuardedButton>
      </form>
    </section>
  );
}
