import { useState, type FormEvent } from 'react';
import { all, del, get, post } from '../api/client';
import type { ApprovalPolicy, Role } from '../api/types';
import { OrganizationLevel, POLICY_NEEDS_ADMIN } from '../rules';
import { useSession } from '../session';
import { ErrorMessage } from './ErrorMessage';
import { SelectField } from './Field';
import { GuardedButton } from './GuardedButton';
import { useAction, useLoad } from './useLoad';

/** Which actions need an approval in the project: for everyone, or for one role's members. */
export function ApprovalPolicies({ projectId }: { projectId: number }) {
  const { organization, level } = useSession();
  const base = `/api/projects/${projectId}/approval_policies/`;
  const policies = useLoad(() => get<ApprovalPolicy[]>(base), [base]);
  const roles = useLoad(() => all<Role>(`/api/organizations/${organization?.id}/roles/`), [organization?.id]);
  const action = useAction();
  const [role, setRole] = useState('');
  const denial = level < OrganizationLevel.ADMIN ? POLICY_NEEDS_ADMIN : null;
  const roleName = (id: string | null) => (id ? roles.data?.find((r) => r.id === id)?.name ?? id : 'everyone');

  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (await action.run(() => post(base, { action: 'delete_feature_flag', role: role || null }), 'Policy added.')) await policies.reload();
  };
  const remove = (p: ApprovalPolicy) =>
    void action.run(async () => {
      await del(`${base}${p.id}/`);
      await policies.reload();
    }, 'Policy removed.');

  return (
    <section className="card" aria-labelledby="policies-heading">
      <h2 id="policies-heading">Approval policies</h2>
      <ErrorMessage error={action.error ?? policies.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      {policies.data && policies.data.length === 0 ? <p>No action needs an approval in this project.</p> : null}
      <ul className="plain-list">
        {(policies.data ?? []).map((p) => (
          <li key={p.id}>
            <span>
              {p.action.replaceAll('_', ' ')} needs approval for {roleName(p.role)}
            </span>
            <GuardedButton className="secondary" disabledReason={denial} onClick={() => remove(p)} aria-label={`Remove the policy for ${roleName(p.role)}`}>
              Remove
            </GuardedButton>
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={(e) => void add(e)} aria-label="New approval policy">
        <SelectField label="Deleting a feature flag needs approval for" value={role} disabledReason={denial} onChange={(e) => setRole(e.target.value)}>
          <option value="">Everyone without manager access</option>
          {(roles.data ?? []).map((r) => (
            <option key={r.id} value={r.id}>
              Members of {r.name}
            </option>
          ))}
        </SelectField>
        <GuardedButton type="submit" disabledReason={denial}>
          Add policy
        </GuardedButton>
      </form>
    </section>
  );
}
