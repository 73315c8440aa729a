import { useState, type FormEvent } from 'react';
import { all, del, post } from '../../api/client';
import type { Domain, GroupMapping, Role } from '../../api/types';
import { LEVEL_NAMES, OrganizationLevel } from '../../rules';
import { useSession } from '../../session';
import { ErrorMessage } from '../ErrorMessage';
import { SelectField, TextField } from '../Field';
import { GuardedButton } from '../GuardedButton';
import { useAction, useLoad } from '../useLoad';

/** The IdP's groups mapped to a level and/or a role, re-applied at every SSO login. */
export function GroupMappings({ domain, base, denial }: { domain: Domain; base: string; denial: string | null }) {
  const { organization } = useSession();
  const mappings = useLoad(() => all<GroupMapping>(`${base}group_mappings/`), [base]);
  const roles = useLoad(() => all<Role>(`/api/organizations/${organization?.id}/roles/`), [organization?.id]);
  const action = useAction();
  const [form, setForm] = useState({ group_name: '', level: '', role_id: '' });
  const roleName = (id: string | null) => roles.data?.find((r) => r.id === id)?.name ?? id;

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const body = { group_name: form.group_name, level: form.level ? Number(form.level) : null, role_id: form.role_id || null };
    if (await action.run(() => post(`${base}group_mappings/`, body), `Group ${form.group_name} mapped.`)) {
      setForm({ group_name: '', level: '', role_id: '' });
      await mappings.reload();
    }
  };
  const remove = (m: GroupMapping) =>
    void action.run(async () => {
      await del(`${base}group_mappings/${m.id}/`);
      await mappings.reload();
    }, `Mapping for ${m.group_name} removed.`);

  return (
    <div className="subsection">
      <h3>Group mapping</h3>
      <p className="hint">
        Groups come from the IdP attribute or claim <code>{domain.group_attribute}</code>. At each login the level becomes the highest mapped level (Member if
        none), and mapped roles follow the groups.
      </p>
      <ErrorMessage error={action.error ?? mappings.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <ul className="plain-list">
        {(mappings.data ?? []).map((m) => (
          <li key={m.id}>
            <span>
              <strong>{m.group_name}</strong> →{' '}
              {[m.level ? LEVEL_NAMES[m.level] : null, m.role_id ? `role ${roleName(m.role_id)}` : null].filter(Boolean).join(', ') || 'nothing'}
            </span>
            <GuardedButton className="secondary" disabledReason={denial} onClick={() => remove(m)} aria-label={`Remove the mapping for ${m.group_name}`}>
              Remove
            </GuardedButton>
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={(e) => void add(e)} aria-label={`Map a group of ${domain.domain}`}>
        <TextField
          label="IdP group"
          required
          value={form.group_name}
          onChange={(e) => setForm({ ...form, group_name: e.target.value })}
          disabled={Boolean(denial)}
        />
        <SelectField label="Level" value={form.level} disabledReason={denial} onChange={(e) => setForm({ ...form, level: e.target.value })}>
          <option value="">(no level)</option>
          {[OrganizationLevel.MEMBER, OrganizationLevel.ADMIN, OrganizationLevel.OWNER].map((l) => (
            <option key={l} value={l}>
              {LEVEL_NAMES[l]}
            </option>
          ))}
        </SelectField>
        <SelectField label="Role" value={form.role_id} disabledReason={denial} onChange={(e) => setForm({ ...form, role_id: e.target.value })}>
          <option value="">(no role)</option>
          {(roles.data ?? []).map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </SelectField>
        <GuardedButton type="submit" disabledReason={denial}>
          Add mapping
        </GuardedButton>
      </form>
    </div>
  );
}
