import { useState } from 'react';
import { get, put } from '../api/client';
import type { AccessControls, Role } from '../api/types';
import { RESOURCE_GROUPS } from '../resources';
import { accessLevelsFor, defaultAccessLevel, minimumAccessLevel, PROJECT_WIDE_NEEDS_ORG_ADMIN, type AccessControlResource } from '../rules';
import { ErrorMessage } from './ErrorMessage';
import { useAction, useLoad } from './useLoad';

/** Product areas open at first: the everyday ones; any area with a rule opens too. */
const OPEN_AT_FIRST = new Set(['Product analytics', 'Feature management']);

/**
 * Roles × resources in one project: each cell the role's project-wide level on the resource
 * (`…/resource_access_controls/`), or "—" for no rule. The first column is everyone's default.
 * Resources by their names, in product areas that fold; a change says "Saved" in its own cell.
 */
export function ResourceGrid({ projectId, roles }: { projectId: number; roles: Role[] }) {
  const url = `/api/projects/${projectId}/resource_access_controls/`;
  const view = useLoad(() => get<AccessControls>(url), [url]);
  const action = useAction();
  const [toggled, setToggled] = useState<Record<string, boolean>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const rows = view.data?.access_controls ?? [];
  const denial = view.data && !view.data.user_can_edit_access_levels ? PROJECT_WIDE_NEEDS_ORG_ADMIN : null;
  const columns: Array<{ id: string | null; name: string }> = [{ id: null, name: 'Everyone (default)' }, ...roles.map((r) => ({ id: r.id, name: r.name }))];

  const levelOf = (resource: string, roleId: string | null) =>
    rows.find((r) => r.resource === resource && r.role === roleId && r.organization_member === null)?.access_level ?? '';
  const isOpen = (group: (typeof RESOURCE_GROUPS)[number]) =>
    toggled[group.name] ?? (OPEN_AT_FIRST.has(group.name) || rows.some((r) => r.resource in group.resources && r.organization_member === null));

  const set = (resource: string, roleId: string | null, level: string) => {
    const cell = `${resource}|${roleId ?? ''}`;
    setSaved(null);
    void action.run(async () => {
      await put(url, { resource, role: roleId, access_level: level === '' ? null : level });
      await view.reload();
      setSaved(cell);
    });
  };

  return (
    <div className="grid-block">
      <h3 id="resource-grid-heading">Resources by role</h3>
      <p className="hint">
        Each cell is a project-wide rule; “—” means no rule (the default column, then PostHog's default: {defaultAccessLevel('insight')}). Admins and creators
        always have the highest level.
      </p>
      <ErrorMessage error={view.error ?? action.error} />
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
          {RESOURCE_GROUPS.map((group) => {
            const open = isOpen(group);
            return (
              <tbody key={group.name}>
                <tr className="group-row">
                  <th scope="rowgroup" colSpan={columns.length + 1}>
                    <button type="button" className="link" aria-expanded={open} onClick={() => setToggled({ ...toggled, [group.name]: !open })}>
                      {open ? '▾' : '▸'} {group.name} <span className="hint">({Object.keys(group.resources).length})</span>
                    </button>
                  </th>
                </tr>
                {open
                  ? Object.entries(group.resources).map(([resource, name]) => {
                      const levels = accessLevelsFor(resource as AccessControlResource);
                      const allowed = levels.slice(levels.indexOf(minimumAccessLevel(resource as AccessControlResource) as (typeof levels)[number]));
                      return (
                        <tr key={resource}>
                          <th scope="row" title={resource}>
                            {name}
                          </th>
                          {columns.map((c) => {
                            const cell = `${resource}|${c.id ?? ''}`;
                            return (
                              <td key={c.id ?? 'default'}>
                                <select
                                  aria-label={`${name} for ${c.name}`}
                                  value={levelOf(resource, c.id)}
                                  disabled={Boolean(denial) || !view.data}
                                  title={denial ?? undefined}
                                  onChange={(e) => set(resource, c.id, e.target.value)}
                                >
                                  <option value="">—</option>
                                  {allowed.map((l) => (
                                    <option key={l} value={l}>
                                      {l}
                                    </option>
                                  ))}
                                </select>
                                <span role="status" className="cell-status">
                                  {saved === cell ? 'Saved' : ''}
                                </span>
                              </td>
                            );
                          })}
                        </tr>
                      );
                    })
                  : null}
              </tbody>
            );
          })}
        </table>
      </div>
    </div>
  );
}
