import { useState, type ReactNode } from 'react';
import { get } from '../api/client';
import type { Member, Organization, Role } from '../api/types';
import { levelName, type AccessControlResource } from '../rules';
import { RESOURCE_GROUPS, resourceName } from '../resources';
import { ExpiryNote } from './GrantExpiry';
import { ErrorMessage } from './ErrorMessage';
import { SelectField } from './Field';
import { useLoad } from './useLoad';

type ProjectRef = Organization['teams'][number];

/** The server's answer (GET /api/projects/:id/users_with_access/?member=…, PostHog's users_with_access). */
interface ResourceAnswer {
  resource: AccessControlResource;
  access_level: string;
  access_source: string;
  reason: string;
  can_read: boolean;
  can_write: boolean;
}
interface UserWithAccess {
  user_id: string;
  project_access_level: 'none' | 'member' | 'admin';
  access_source: string;
  reason: string;
  role_ids: string[];
  /** The earliest expiry of a time-bound grant this access rests on, and the reasons given. */
  expires_at: string | null;
  grant_reasons: string[];
  resources?: ResourceAnswer[];
}

/**
 * "What can this person do in this project, and why": the server's own answer (who has access and
 * why, src/domain/access-control/users-with-access.ts), so the console shows exactly what the rules decide.
 */
export function EffectiveAccess({ project, roles, members }: { project: ProjectRef; roles: Role[]; members: Member[] }) {
  const [memberId, setMemberId] = useState('');
  const facts = useLoad(
    async () => {
      if (!memberId) return { forMemberId: memberId, answer: null };
      const res = await get<{ users: UserWithAccess[] }>(`/api/projects/${project.id}/users_with_access/?member=${encodeURIComponent(memberId)}`);
      return { forMemberId: memberId, answer: res.users[0] ?? null };
    },
    // Read afresh for each question: the rules may have just changed on this page.
    [project.id, memberId],
  );
  const member = members.find((m) => m.id === memberId) ?? null;

  let answer: ReactNode = null;
  // Answer only from facts read for this question, never from the previous one's while reloading.
  const reach = facts.data && facts.data.forMemberId === memberId ? facts.data.answer : null;
  if (member && reach) {
    const byResource = new Map((reach.resources ?? []).map((r) => [r.resource, r]));
    const roleNames = roles.filter((r) => reach.role_ids.includes(r.id)).map((r) => r.name);
    answer = (
      <div aria-live="polite">
        <p className="verdict">
          <strong>{member.user.email}</strong> is an organization {levelName(member.level).toLowerCase()}
          {roleNames.length ? ` with role${roleNames.length > 1 ? 's' : ''} ${roleNames.join(', ')}` : ' with no roles'}. In {project.name}:{' '}
          <strong>{reach.project_access_level === 'none' ? 'no access' : `project ${reach.project_access_level}`}</strong> — {reach.reason}.
          {reach.expires_at ? (
            <>
              {' '}
              <ExpiryNote expiresAt={reach.expires_at} reason={reach.grant_reasons.join('; ') || null} />
            </>
          ) : null}
        </p>
        {reach.project_access_level !== 'none' ? (
          <div className="table-wrap">
            <table className="grid" aria-label={`What ${member.user.email} can do in ${project.name}`}>
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">Level</th>
                  <th scope="col">Read</th>
                  <th scope="col">Write</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {RESOURCE_GROUPS.flatMap((group) => [
                  <tr key={group.name} className="group-row">
                    <th scope="rowgroup" colSpan={5}>
                      {group.name}
                    </th>
                  </tr>,
                  ...(Object.keys(group.resources) as AccessControlResource[]).map((resource) => {
                    const r = byResource.get(resource);
                    return (
                      <tr key={resource}>
                        <th scope="row" title={resource}>
                          {resourceName(resource)}
                        </th>
                        <td>{r?.access_level ?? '—'}</td>
                        <td>{r ? (r.can_read ? 'yes' : 'no') : '—'}</td>
                        <td>{r ? (r.can_write ? 'yes' : 'no') : '—'}</td>
                        <td>{r?.reason ?? ''}</td>
                      </tr>
                    );
                  }),
                ])}
              </tbody>
            </table>
          </div>
        ) : null}
        <p className="hint">
          Objects can carry their own rules, and their creators always manage them. A personal API key never exceeds its user, and its scopes narrow it further.
        </p>
      </div>
    );
  }

  return (
    <section aria-labelledby="effective-heading" className="card">
      <h2 id="effective-heading">Effective access in {project.name}</h2>
      <SelectField label="Person" value={memberId} onChange={(e) => setMemberId(e.target.value)}>
        <option value="">Choose a member…</option>
        {members.map((m) => (
          <option key={m.id} value={m.id}>
            {m.user.email}
          </option>
        ))}
      </SelectField>
      <ErrorMessage error={facts.error} />
      {answer}
    </section>
  );
}
