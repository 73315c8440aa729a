import { useState } from 'react';
import { get, put } from '../api/client';
import type { AccessControls, Role } from '../api/types';
import { ExpiryField, ExpiryNote, expiryBody } from './GrantExpiry';
import { ErrorMessage } from './ErrorMessage';
import { useAction, useLoad } from './useLoad';

/** Who reaches the project, per role (`…/access_controls/`: none, member or admin). */
export function ProjectAccessByRole({ projectId, roles }: { projectId: number; roles: Role[] }) {
  const url = `/api/projects/${projectId}/access_controls/`;
  const view = useLoad(() => get<AccessControls>(url), [url]);
  const action = useAction();
  const [expires, setExpires] = useState('');
  const rows = view.data?.access_controls ?? [];
  const denial = view.data && !view.data.user_can_edit_access_levels ? `Must be ${view.data.maximum_access_level} to modify project permissions.` : null;
  const targets: Array<{ id: string | null; name: string }> = [{ id: null, name: 'Everyone (default)' }, ...roles.map((r) => ({ id: r.id, name: r.name }))];
  const levelOf = (roleId: string | null) => rows.find((r) => r.role === roleId && r.organization_member === null)?.access_level ?? '';

  const set = (roleId: string | null, level: string) =>
    action.run(async () => {
      await put(url, { role: roleId, access_level: level === '' ? null : level, ...expiryBody(expires) });
      await view.reload();
    }, 'Project access saved.');

  return (
    <div className="grid-block">
      <h3 id="project-access-heading">Project access by role</h3>
      <p className="hint">A rule here decides whether members reach the project at all, before its private flag. Organization admins always do.</p>
      <ExpiryField label="Rules set below expire (optional)" value={expires} onChange={setExpires} />
      <ErrorMessage error={view.error ?? action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <div className="table-wrap">
        <table aria-labelledby="project-access-heading">
          <tbody>
            {targets.map((t) => (
              <tr key={t.id ?? 'default'}>
                <th scope="row">{t.name}</th>
                <td>
                  <select
                    aria-label={`Project access for ${t.name}`}
                    value={levelOf(t.id)}
                    disabled={Boolean(denial) || !view.data}
                    title={denial ?? undefined}
                    onChange={(e) => void set(t.id, e.target.value)}
                  >
                    <option value="">— (no rule)</option>
                    {(view.data?.available_access_levels ?? ['none', 'member', 'admin']).map((l) => (
                      <option key={l} value={l}>
                        {l}
                      </option>
                    ))}
                  </select>
                  {(() => {
                    const rule = rows.find((r) => r.organization_member === null && r.role === t.id);
                    return rule ? <ExpiryNote expiresAt={rule.expires_at} reason={rule.reason} /> : null;
                  })()}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
