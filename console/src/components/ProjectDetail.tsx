import { useState, type FormEvent } from 'react';
import { all, del, get, patch, post } from '../api/client';
import type { Member, Project, ProjectMember } from '../api/types';
import { ErrorMessage } from './ErrorMessage';
import { CheckboxField, SelectField } from './Field';
import { ExpiryField, ExpiryNote, expiryBody } from './GrantExpiry';
import { GuardedButton } from './GuardedButton';
import { useAction, useLoad } from './useLoad';
import { explicitMemberDenial, INSUFFICIENT_ORG_LEVEL, levelName, OrganizationLevel, ProjectLevel } from '../rules';
import { useSession } from '../session';

const PROJECT_LEVELS = [ProjectLevel.MEMBER, ProjectLevel.ADMIN];

/** One project: private or open, and its explicit members with their levels. */
export function ProjectDetail({ project, onChanged }: { project: Project; onChanged(): void }) {
  const { organization, me, level: orgLevel } = useSession();
  const orgId = organization?.id ?? '';
  const base = `/api/projects/${project.id}/members/`;
  const members = useLoad(() => all<ProjectMember>(base), [base]);
  const orgMembers = useLoad(() => all<Member>(`/api/organizations/${orgId}/members/`), [orgId]);
  const action = useAction();
  const [current, setCurrent] = useState(project);
  const [add, setAdd] = useState({ user_uuid: '', level: ProjectLevel.MEMBER as number });
  const [expires, setExpires] = useState('');
  const myProjectLevel = current.effective_membership_level ?? 0;

  const privacyDenial = orgLevel < OrganizationLevel.ADMIN ? INSUFFICIENT_ORG_LEVEL : null;
  const togglePrivate = async (value: boolean) => {
    const before = current;
    setCurrent({ ...current, access_control: value });
    const ok = await action.run(
      async () => {
        setCurrent(await patch<Project>(`/api/projects/${project.id}/`, { access_control: value }));
        onChanged();
      },
      value ? 'The project is now private.' : 'The project is now open to every member.',
    );
    if (!ok) setCurrent(before);
  };

  const toggleProduction = async (value: boolean) => {
    const ok = await action.run(
      async () => setCurrent(await patch<Project>(`/api/projects/${project.id}/`, { is_production: value })),
      value ? 'The project is marked production.' : 'The project is no longer marked production.',
    );
    if (ok) onChanged();
  };

  const explicit = new Map((members.data ?? []).map((m) => [m.user.uuid, m]));
  const candidates = (orgMembers.data ?? []).filter((m) => !explicit.has(m.user.uuid));
  const addDenial = explicitMemberDenial({ requesterUserId: me.id, requesterProjectLevel: myProjectLevel, targetUserId: -1 });

  const addMember = async (e: FormEvent) => {
    e.preventDefault();
    const who = candidates.find((c) => c.user.uuid === add.user_uuid);
    const ok = await action.run(() => post(base, { ...add, ...expiryBody(expires) }), `${who?.user.email ?? 'Member'} added.`);
    if (ok) {
      setAdd({ user_uuid: '', level: ProjectLevel.MEMBER });
      setExpires('');
      await members.reload();
    }
  };

  const change = (m: ProjectMember, level: number) =>
    action.run(
      async () => {
        await patch(`${base}${m.user.uuid}/`, { level });
        await members.reload();
      },
      `${m.user.email} is now project ${levelName(level).toLowerCase()}.`,
    );

  const remove = (m: ProjectMember) =>
    action.run(async () => {
      await del(`${base}${m.user.uuid}/`);
      await members.reload();
      setCurrent(await get<Project>(`/api/projects/${project.id}/`).catch(() => current));
    }, `${m.user.email} removed from the project.`);

  return (
    <>
      <h2 id="project-detail-heading">{current.name}</h2>
      <p className="muted">
        Your level here: {levelName(current.effective_membership_level)} · token <code>{current.api_token}</code>
      </p>
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <CheckboxField
        label="Private project"
        checked={current.access_control}
        disabled={Boolean(privacyDenial) || action.busy}
        title={privacyDenial ?? undefined}
        onChange={(e) => void togglePrivate(e.target.checked)}
        hint={privacyDenial ?? 'Private projects are reachable by organization admins and the members listed below.'}
      />
      <CheckboxField
        label="Production project"
        checked={current.is_production}
        disabled={Boolean(privacyDenial) || action.busy}
        title={privacyDenial ?? undefined}
        onChange={(e) => void toggleProduction(e.target.checked)}
        hint={privacyDenial ?? "Grants touching a production project must expire within the organization's cap."}
      />
      <h3>Project members</h3>
      <ErrorMessage error={members.error} />
      {members.data && members.data.length === 0 ? <p>No explicit members.</p> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Project level</th>
              <th scope="col">Effective</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(members.data ?? []).map((m) => {
              const facts = { requesterUserId: me.id, requesterProjectLevel: myProjectLevel, targetUserId: m.user.id, targetExplicitLevel: m.level };
              return (
                <tr key={m.id}>
                  <td>
                    {m.user.email} <ExpiryNote expiresAt={m.expires_at} reason={m.reason} />
                  </td>
                  <td>
                    <SelectField
                      label={`Project level of ${m.user.email}`}
                      hideLabel
                      value={m.level}
                      disabledReason={explicitMemberDenial(facts)}
                      onChange={(e) => void change(m, Number(e.target.value))}
                    >
                      {PROJECT_LEVELS.map((l) => {
                        const why = l === m.level ? null : explicitMemberDenial({ ...facts, newLevel: l });
                        return (
                          <option key={l} value={l} disabled={Boolean(why)} title={why ?? undefined}>
                            {levelName(l)}
                          </option>
                        );
                      })}
                    </SelectField>
                  </td>
                  <td>{levelName(m.effective_level)}</td>
                  <td>
                    <GuardedButton
                      className="danger"
                      disabledReason={explicitMemberDenial(facts)}
                      onClick={() => void remove(m)}
                      aria-label={`Remove ${m.user.email} from the project`}
                    >
                      Remove
                    </GuardedButton>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <form onSubmit={(e) => void addMember(e)} className="inline-form" aria-label="Add a project member">
        <SelectField
          label="Organization member"
          value={add.user_uuid}
          required
          disabledReason={addDenial}
          onChange={(e) => setAdd({ ...add, user_uuid: e.target.value })}
        >
          <option value="">Choose…</option>
          {candidates.map((c) => {
            const why = explicitMemberDenial({ requesterUserId: me.id, requesterProjectLevel: myProjectLevel, targetUserId: c.user.id });
            return (
              <option key={c.user.uuid} value={c.user.uuid} disabled={Boolean(why)} title={why ?? undefined}>
                {c.user.email}
              </option>
            );
          })}
        </SelectField>
        <SelectField label="Project level" value={add.level} disabledReason={addDenial} onChange={(e) => setAdd({ ...add, level: Number(e.target.value) })}>
          {PROJECT_LEVELS.map((l) => {
            const why = explicitMemberDenial({ requesterUserId: me.id, requesterProjectLevel: myProjectLevel, targetUserId: -1, newLevel: l });
            return (
              <option key={l} value={l} disabled={Boolean(why)} title={why ?? undefined}>
                {levelName(l)}
              </option>
            );
          })}
        </SelectField>
        <ExpiryField value={expires} onChange={setExpires} />
        <GuardedButton type="submit" disabledReason={addDenial}>
          Add to project
        </GuardedButton>
      </form>
    </>
  );
}
