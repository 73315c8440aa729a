import { useState } from 'react';
import { all } from '../api/client';
import type { Member, Role } from '../api/types';
import { EffectiveAccess } from '../components/EffectiveAccess';
import { ErrorMessage } from '../components/ErrorMessage';
import { SelectField } from '../components/Field';
import { ProjectAccessByRole } from '../components/ProjectAccessByRole';
import { ResourceGrid } from '../components/ResourceGrid';
import { RoleList } from '../components/RoleList';
import { useLoad } from '../components/useLoad';
import { useSession } from '../session';

/** Roles and access: roles and their members, per project the roles × resources grid, project access per role, and effective access. */
export function RolesAccess() {
  const { organization, me } = useSession();
  const orgId = organization?.id ?? '';
  const roles = useLoad(() => all<Role>(`/api/organizations/${orgId}/roles/`), [orgId]);
  const members = useLoad(() => all<Member>(`/api/organizations/${orgId}/members/`), [orgId]);
  const projects = organization?.teams ?? [];
  const [projectId, setProjectId] = useState<number | null>(me.team?.id ?? projects[0]?.id ?? null);
  const project = projects.find((p) => p.id === projectId) ?? projects[0] ?? null;

  return (
    <>
      <h1>Roles &amp; access</h1>
      <ErrorMessage error={roles.error ?? members.error} />
      <RoleList roles={roles.data ?? []} members={members.data ?? []} onChanged={() => void roles.reload()} />
      <section aria-labelledby="project-rules-heading" className="card">
        <h2 id="project-rules-heading">Access in a project</h2>
        <SelectField label="Project" value={project?.id ?? ''} onChange={(e) => setProjectId(Number(e.target.value))}>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
        {project ? (
          <>
            <ProjectAccessByRole key={`p${project.id}`} projectId={project.id} roles={roles.data ?? []} />
            <ResourceGrid key={`r${project.id}`} projectId={project.id} roles={roles.data ?? []} />
          </>
        ) : (
          <p>No project to configure.</p>
        )}
      </section>
      {project ? <EffectiveAccess key={`e${project.id}`} project={project} roles={roles.data ?? []} members={members.data ?? []} /> : null}
    </>
  );
}
