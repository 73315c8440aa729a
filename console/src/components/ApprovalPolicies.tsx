import { useState, type FormEvent } from 'react';
import { all, del, patch, post } from '../api/client';
import type { ApprovalPolicy, Member, Role } from '../api/types';
import { OrganizationLevel, POLICY_NEEDS_ADMIN } from '../rules';
import { useSession } from '../session';
import { ErrorMessage } from './ErrorMessage';
import { CheckboxField, SelectField, TextField } from './Field';
import { GuardedButton } from './GuardedButton';
import { useAction, useLoad } from './useLoad';

const ACTIONS: Record<string, string> = {
  'feature_flag.delete': 'Deleting a feature flag',
  'feature_flag.enable': 'Enabling a feature flag',
  'feature_flag.disable': 'Disabling a feature flag',
  'feature_flag.update': 'Changing a flag’s rollout or release conditions',
};

interface Conditions {
  type?: string;
  operator?: string;
  value?: number;
  flag_tags?: string[];
  project_ids?: number[];
}

/**
 * Which flag changes need approval, in this project or in every project of the organization: the
 * action, who approves (named members and roles, or the flag's managers) and how many, whether
 * the requester may approve, who skips it, which flags (by tag) and how long a request waits.
 */
export function ApprovalPolicies({ projectId }: { projectId: number }) {
  const { organization, level } = useSession();
  const projectBase = `/api/projects/${projectId}/approval_policies/`;
  const orgBase = `/api/organizations/${organization?.id}/approval_policies/`;
  const policies = useLoad(async () => [...(await all<ApprovalPolicy>(projectBase)), ...(await all<ApprovalPolicy>(orgBase))], [projectBase, orgBase]);
  const roles = useLoad(() => all<Role>(`/api/organizations/${organization?.id}/roles/`), [organization?.id]);
  const members = useLoad(() => all<Member>(`/api/organizations/${organization?.id}/members/`), [organization?.id]);
  const action = useAction();
  const [form, setForm] = useState({
    action: 'feature_flag.delete',
    wide: false,
    quorum: '1',
    users: [] as number[],
    roles: [] as string[],
    role: '',
    self: false,
    managers: true,
    tags: '',
    days: '14',
    above: '',
  });
  const set = (change: Partial<typeof form>) => setForm((f) => ({ ...f, ...change }));
  const toggle = <T,>(list: T[], item: T) => (list.includes(item) ? list.filter((x) => x !== item) : [...list, item]);
  const denial = level < OrganizationLevel.ADMIN ? POLICY_NEEDS_ADMIN : null;
  const roleName = (id: string) => roles.data?.find((r) => r.id === id)?.name ?? id;
  const userName = (id: number) => members.data?.find((m) => m.user.id === id)?.user.email ?? `user ${id}`;
  const baseOf = (p: ApprovalPolicy) => (p.team_id === null ? orgBase : projectBase);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const tags = form.tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const conditions: Conditions = {
      ...(tags.length > 0 ? { flag_tags: tags } : {}),
      ...(form.action === 'feature_flag.update' && form.above !== ''
        ? { type: 'before_after', field: 'rollout_percentage', operator: '>', value: Number(form.above) }
        : {}),
    };
    const body = {
      action_key: form.action,
      role: form.role || null,
      approver_config: { quorum: Number(form.quorum), users: form.users, roles: form.roles },
      allow_self_approve: form.self,
      bypass_object_managers: form.managers,
      expires_after: `${Number(form.days)} 00:00:00`,
      conditions,
    };
    if (await action.run(() => post(form.wide ? orgBase : projectBase, body), 'Policy added.')) await policies.reload();
  };
  const remove = (p: ApprovalPolicy) =>
    void action.run(async () => {
      await del(`${baseOf(p)}${p.id}/`);
      await policies.reload();
    }, 'Policy removed.');
  const setEnabled = (p: ApprovalPolicy) =>
    void action.run(
      async () => {
        await patch(`${baseOf(p)}${p.id}/`, { enabled: !p.enabled });
        await policies.reload();
      },
      p.enabled ? 'Policy paused.' : 'Policy resumed.',
    );

  const describe = (p: ApprovalPolicy) => {
    const c = p.conditions as Conditions;
    const who =
      p.approver_config.users.length + p.approver_config.roles.length === 0
        ? 'the flag’s managers'
        : [...p.approver_config.users.map(userName), ...p.approver_config.roles.map((r) => `members of ${roleName(r)}`)].join(', ');
    return [
      `${ACTIONS[p.action_key] ?? p.action_key} needs ${p.approver_config.quorum} approval${p.approver_config.quorum > 1 ? 's' : ''} from ${who}`,
      p.team_id === null ? 'in every project' : null,
      p.role ? `for members of ${roleName(p.role)}` : 'for everyone',
      c.flag_tags?.length ? `on flags tagged ${c.flag_tags.join(', ')}` : null,
      c.type ? `when the rollout ${c.operator} ${c.value}%` : null,
      p.allow_self_approve ? 'the requester may approve' : null,
      p.bypass_object_managers ? 'managers of the flag skip it' : null,
      `requests expire after ${p.expires_after}`,
      p.enabled ? null : '(paused)',
    ]
      .filter(Boolean)
      .join(' · ');
  };

  return (
    <section className="card" aria-labelledby="policies-heading">
      <h2 id="policies-heading">Approval policies</h2>
      <ErrorMessage error={action.error ?? policies.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      {policies.data && policies.data.length === 0 ? <p>No flag change needs an approval in this project.</p> : null}
      <ul className="plain-list">
        {(policies.data ?? []).map((p) => (
          <li key={p.id}>
            <span>{describe(p)}</span>
            <GuardedButton
              className="secondary"
              disabledReason={denial}
              onClick={() => setEnabled(p)}
              aria-label={`${p.enabled ? 'Pause' : 'Resume'} the policy: ${describe(p)}`}
            >
              {p.enabled ? 'Pause' : 'Resume'}
            </GuardedButton>
            <GuardedButton
              className="secondary"
              disabledReason={denial}
              onClick={() => remove(p)}
              aria-label={`Remove the policy for ${p.role ? roleName(p.role) : 'everyone'}`}
            >
              Remove
            </GuardedButton>
          </li>
        ))}
      </ul>
      <form className="stack-form" onSubmit={(e) => void add(e)} aria-label="New approval policy">
        <SelectField
          label="Change that needs approval"
          name="action_key"
          value={form.action}
          disabledReason={denial}
          onChange={(e) => set({ action: e.target.value, managers: e.target.value === 'feature_flag.delete' })}
        >
          {Object.entries(ACTIONS).map(([key, label]) => (
            <option key={key} value={key}>
              {label}
            </option>
          ))}
        </SelectField>
        <SelectField label="Changes by" name="role" value={form.role} disabledReason={denial} onChange={(e) => set({ role: e.target.value })}>
          <option value="">Everyone</option>
          {(roles.data ?? []).map((r) => (
            <option key={r.id} value={r.id}>
              Members of {r.name}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Approvals needed (quorum)"
          name="approver_config"
          type="number"
          min={1}
          max={100}
          value={form.quorum}
          disabled={Boolean(denial)}
          onChange={(e) => set({ quorum: e.target.value })}
        />
        <fieldset>
          <legend>Approvers (none chosen: whoever manages the flag)</legend>
          {(members.data ?? []).map((m) => (
            <CheckboxField
              key={m.user.id}
              label={m.user.email}
              checked={form.users.includes(m.user.id)}
              disabled={Boolean(denial)}
              onChange={() => set({ users: toggle(form.users, m.user.id) })}
            />
          ))}
          {(roles.data ?? []).map((r) => (
            <CheckboxField
              key={r.id}
              label={`Members of ${r.name}`}
              checked={form.roles.includes(r.id)}
              disabled={Boolean(denial)}
              onChange={() => set({ roles: toggle(form.roles, r.id) })}
            />
          ))}
        </fieldset>
        {form.action === 'feature_flag.update' ? (
          <TextField
            label="Only when a rollout rises above (%)"
            name="conditions"
            type="number"
            min={0}
            max={100}
            value={form.above}
            disabled={Boolean(denial)}
            onChange={(e) => set({ above: e.target.value })}
          />
        ) : null}
        <TextField
          label="Only flags tagged (comma-separated, empty: every flag)"
          value={form.tags}
          disabled={Boolean(denial)}
          onChange={(e) => set({ tags: e.target.value })}
        />
        <TextField
          label="Requests expire after (days)"
          name="expires_after"
          type="number"
          min={1}
          max={365}
          value={form.days}
          disabled={Boolean(denial)}
          onChange={(e) => set({ days: e.target.value })}
        />
        <CheckboxField
          label="The requester may approve their own request"
          checked={form.self}
          disabled={Boolean(denial)}
          onChange={() => set({ self: !form.self })}
        />
        <CheckboxField
          label="People who manage the flag skip approval"
          checked={form.managers}
          disabled={Boolean(denial)}
          onChange={() => set({ managers: !form.managers })}
        />
        <CheckboxField label="In every project of the organization" checked={form.wide} disabled={Boolean(denial)} onChange={() => set({ wide: !form.wide })} />
        <GuardedButton type="submit" disabledReason={denial}>
          Add policy
        </GuardedButton>
      </form>
    </section>
  );
}
