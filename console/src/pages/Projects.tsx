import { useState, type FormEvent } from 'react';
import { all, post } from '../api/client';
import type { Project } from '../api/types';
import { ProjectDetail } from '../components/ProjectDetail';
import { UnreachableProject } from '../components/UnreachableProject';
import { ErrorMessage } from '../components/ErrorMessage';
import { CheckboxField, TextField } from '../components/Field';
import { GuardedButton } from '../components/GuardedButton';
import { useAction, useLoad } from '../components/useLoad';
import { Link, navigate, usePath } from '../router';
import { CREATE_PROJECT_NEEDS_ADMIN, levelName, OrganizationLevel } from '../rules';
import { useSession } from '../session';

/** Projects: create (admins), open one to make it private and manage its members (/projects/:id). */
export function Projects() {
  const { organization, level, reload: reloadSession } = useSession();
  const orgId = organization?.id ?? '';
  const path = usePath();
  const selected = Number(path.split('/')[2]) || null;
  const projects = useLoad(() => all<Project>(`/api/organizations/${orgId}/projects/`), [orgId]);
  const create = useAction();
  const [form, setForm] = useState({ name: '', access_control: false });
  const createDenial = level < OrganizationLevel.ADMIN ? CREATE_PROJECT_NEEDS_ADMIN : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let created: Project | null = null;
    const ok = await create.run(async () => {
      created = await post<Project>(`/api/organizations/${orgId}/projects/`, form);
    }, `Project ${form.name} created.`);
    if (ok && created) {
      setForm({ name: '', access_control: false });
      await projects.reload();
      await reloadSession();
      navigate(`/projects/${(created as Project).id}`);
    }
  };

  const project = projects.data?.find((p) => p.id === selected) ?? null;

  return (
    <>
      <h1>Projects</h1>
      <div className="split">
        <section aria-labelledby="projects-heading">
          <h2 id="projects-heading">Projects you can reach</h2>
          <ErrorMessage error={projects.error} />
          <ul className="plain-list">
            {(projects.data ?? []).map((p) => (
              <li key={p.id}>
                <Link to={`/projects/${p.id}`} aria-current={p.id === selected ? 'page' : undefined}>
                  {p.name}
                </Link>
                <span className="muted">
                  {p.access_control ? 'private' : 'open'} · you: {levelName(p.effective_membership_level)}
                </span>
              </li>
            ))}
          </ul>
          <form onSubmit={(e) => void submit(e)} className="card" aria-labelledby="new-project-heading">
            <h3 id="new-project-heading">New project</h3>
            <fieldset disabled={Boolean(createDenial)} className="plain" title={createDenial ?? undefined}>
              <TextField label="Project name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
              <CheckboxField
                label="Private (only admins and its members)"
                checked={form.access_control}
                onChange={(e) => setForm({ ...form, access_control: e.target.checked })}
              />
            </fieldset>
            <ErrorMessage error={create.error} />
            <p role="status" className="status">
              {create.message}
            </p>
            <GuardedButton type="submit" disabledReason={createDenial}>
              Create project
            </GuardedButton>
          </form>
        </section>
        <section aria-labelledby="project-detail-heading" className="detail">
          {project ? (
            <ProjectDetail key={project.id} project={project} onChanged={() => void projects.reload()} />
          ) : (
            <>
              <h2 id="project-detail-heading">Project</h2>
              {selected && projects.data ? <UnreachableProject projectId={selected} /> : <p>Choose a project to see its access and members.</p>}
            </>
          )}
        </section>
      </div>
    </>
  );
}
