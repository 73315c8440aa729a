import { useState, type ReactNode } from 'react';
import { all, get } from '../api/client';
import type { AccessControl, AccessControls, Member, Organization, ProjectMember, Role } from '../api/types';
import {
  levelName,
  requiredLevel,
  resolveAccess,
  resolveProjectLevel,
  satisfies,
  type AccessControlResource,
  type AccessControlRow,
  type AccessLevel,
} from '../rules';
import { RESOURCE_GROUPS, resourceName } from '../resources';
import { ErrorMessage } from './ErrorMessage';
import { SelectField } from './Field';
import { useLoad } from './useLoad';

type ProjectRef = Organization['teams'][number];

const rowOf = (r: AccessControl): AccessControlRow => ({
  accessLevel: r.access_level as AccessLevel,
  resourceId: r.resource_id,
  organizationMemberId: r.organization_member,
  roleId: r.role,
});

/**
 * "What can this person do in this project, and why": the API's facts (membership, roles, the
 * project's flag and explicit members, its access-control rules) run through the server's own
 * resolution (src/access/project-access.ts and access-control.ts).
 */
export function EffectiveAccess({ project, roles, members }: { project: ProjectRef; roles: Role[]; members: Member[] }) {
  const [memberId, setMemberId] = useState('');
  const facts = useLoad(
    async () => {
      const [projectRules, resourceRules, explicit] = await Promise.all([
        get<AccessControls>(`/api/projects/${project.id}/access_controls/`),
        get<AccessControls>(`/api/projects/${project.id}/resource_access_controls/`),
        all<ProjectMember>(`/api/projects/${project.id}/members/`),
      ]);
      return { projectRules, resourceRules, explicit, forMemberId: memberId };
    },
    // Read afresh for each question: the rules may have just changed on this page.
    [project.id, memberId],
  );
  const member = members.find((m) => m.id === memberId) ?? null;

  let answer: ReactNode = null;
  // Answer only from facts read for this question, never from the previous one's while reloading.
  if (member && facts.data && facts.data.forMemberId === memberId) {
    const roleIds = roles.filter((r) => r.members.some((rm) => rm.organization_member.id === member.id)).map((r) => r.id);
    const explicitLevel = facts.data.explicit.find((e) => e.user.uuid === member.user.uuid)?.level ?? null;
    const reach = resolveProjectLevel({
      projectId: project.id,
      organizationLevel: member.level,
      organizationMemberId: member.id,
      accessControl: project.access_control,
      explicitLevel,
      roleIds,
      rows: facts.data.projectRules.access_controls.map(rowOf),
    });
    const roleNames = roles.filter((r) => roleIds.includes(r.id)).map((r) => r.name);
    answer = (
      <div aria-live="polite">
        <p className="verdict">
          <strong>{member.user.email}</strong> is an organization {levelName(member.level).toLowerCase()}
          {roleNames.length ? ` with role${roleNames.length > 1 ? 's' : ''} ${roleNames.join(', ')}` : ' with no roles'}.{' '}
          In {project.name}: <strong>{reach.level === null ? 'no access' : `project ${levelName(reach.level >= 8 ? 8 : 1).toLowerCase()}`}</strong> — {reach.reason}.
        </p>
        {reach.level !== null ? (
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
                  const rows = facts.data!.resourceRules.access_controls.filter((r) => r.resource === resource).map(rowOf);
                  const { level, reason } = resolveAccess({
                    resource,
                    objectId: null,
                    isCreator: false,
                    organizationLevel: member.level,
                    organizationMemberId: member.id,
                    roleIds,
                    rows,
                  });
                  const read = satisfies(resource, level, requiredLevel(resource, 'read'));
                  const write = satisfies(resource, level, requiredLevel(resource, 'write'));
                  return (
                    <tr key={resource}>
                      <th scope="row" title={resource}>
                        {resourceName(resource)}
                      </th>
                      <td>{level}</td>
                      <td>{read ? 'yes' : 'no'}</td>
                      <td>{write ? 'yes' : 'no'}</td>
                      <td>{reason}</td>
                    </tr>
                  );
                  }),
                ])}
              </tbody>
            </table>
          </div>
        ) : null}
        <p className="hint">Objects can carry their own rules, and their creators always manage them. A personal API key never exceeds its user, and its scopes narrow it further.</p>
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
