import { get, put } from '../api/client';
import type { AccessControls, Role } from '../api/types';
import { ACCESS_CONTROL_RESOURCES, accessLevelsFor, defaultAccessLevel, minimumAccessLevel, PROJECT_WIDE_NEEDS_ORG_ADMIN } from '../rules';
import { ErrorMessage } from './ErrorMessage';
import { useAction, useLoad } from './useLoad';

/**
 * Roles × resources in one project: each cell the role's project-wide level on the resource
 * (`…/resource_access_controls/`), or "—" for no rule. The first column is everyone's default.
 */
export function ResourceGrid({ projectId, roles }: { projectId: number; roles: Role[] }) {
  const url = `/api/projects/${projectId}/resource_access_controls/`;
  const view = useLoad(() => get<AccessControls>(url), [url]);
  const action = useAction();
  const rows = view.data?.access_controls ?? [];
  const denial = view.data && !view.data.user_can_edit_access_levels ? PROJECT_WIDE_NEEDS_ORG_ADMIN : null;
  const columns: Array<{ id: string | null; name: string }> = [{ id: null, name: 'Everyone (default)' }, ...roles.map((r) => ({ id: r.id, name: r.name }))];

  const levelOf = (resource: string, roleId: string | null) =>
    rows.find((r) => r.resource === resource && r.role === roleId && r.organization_member === null)?.access_level ?? '';

  const set = (resource: string, roleId: string | null, level: string) =>
    action.run(async () => {
      await put(url, { resource, role: roleId, access_level: level === '' ? null : level });
      await view.reload();
    }, 'Access saved.');

  return (
    <div className="grid-block">
      <h3 id="resource-grid-heading">Resources by role</h3>
      <p className="hint">Each cell is a project-wide rule; “—” means no rule (the default column, then PostHog's default: {defaultAccessLevel('insight')}). Admins and creators always have the highest level.</p>
      <ErrorMessage error={view.error ?? action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <div className="table-wrap">
        <table className="grid" aria-labelledby="resource-grid-heading">
          <thead>
            <tr>
              <th scope="col">Resource</th>
              {columns.map((c) => (
                <th scope="col" key={c.id ?? 'default'}>
                  {c.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ACCESS_CONTROL_RESOURCES.map((resource) => {
              const levels = accessLevelsFor(resource);
              const allowed = levels.slice(levels.indexOf(minimumAccessLevel(resource) as (typeof levels)[number]));
              return (
                <tr key={resource}>
                  <th scope="row">{resource}</th>
                  {columns.map((c) => (
                    <td key={c.id ?? 'default'}>
                      <select
                        aria-label={`${resource} for ${c.name}`}
                        value={levelOf(resource, c.id)}
                        disabled={Boolean(denial) || !view.data}
                        title={denial ?? undefined}
                        onChange={(e) => void set(resource, c.id, e.target.value)}
                      >
                        <option value="">—</option>
                        {allowed.map((l) => (
                          <option key={l} value={l}>
                            {l}
                          </option>
                        ))}
                      </select>
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
