import { useState } from 'react';
import { all, get } from '../api/client';
import type { AccessControls, ChangeRequest } from '../api/types';
import { ApprovalPolicies } from '../components/ApprovalPolicies';
import { ChangeRequestItem } from '../components/ChangeRequestItem';
import { ErrorMessage } from '../components/ErrorMessage';
import { SelectField } from '../components/Field';
import { useLoad } from '../components/useLoad';
import { OrganizationLevel } from '../rules';
import { useSession } from '../session';

/** Object routes whose access controls tell the caller's level (change requests name their resource). */
const OBJECT_PATHS: Record<string, string> = { feature_flag: 'feature_flags', insight: 'insights', dashboard: 'dashboards', session_recording: 'session_recordings' };

/** Approvals: a project's change requests, pending first, approved or rejected by a manager other than the requester. */
export function Approvals() {
  const { organization, me, level } = useSession();
  const projects = organization?.teams ?? [];
  const [projectId, setProjectId] = useState<number | null>(me.team?.id ?? projects[0]?.id ?? null);
  const [state, setState] = useState('pending');
  const [notice, setNotice] = useState<string | null>(null);
  const base = `/api/projects/${projectId}/change_requests/`;
  const requests = useLoad(async () => {
    if (projectId === null) return [];
    const rows = await all<ChangeRequest>(`${base}${state ? `?state=${state}` : ''}`);
    // The caller's level on each object: only its managers decide (admins always are).
    const levels = await Promise.all(
      rows.map(async (r) => {
        if (level >= OrganizationLevel.ADMIN || r.state !== 'pending' || !OBJECT_PATHS[r.resource]) return null;
        return get<AccessControls>(`/api/projects/${projectId}/${OBJECT_PATHS[r.resource]}/${r.resource_id}/access_controls/`).then(
          (v) => ({ have: v.user_access_level, need: v.maximum_access_level }),
          () => ({ have: 'none', need: 'manager' }),
        );
      }),
    );
    return rows.map((r, i) => ({ request: r, access: levels[i] ?? null }));
  }, [projectId, state, level]);

  return (
    <>
      <h1>Approvals</h1>
      <div className="card inline-form">
        <SelectField label="Project" value={projectId ?? ''} onChange={(e) => setProjectId(Number(e.target.value))}>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </SelectField>
        <SelectField label="State" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="pending">Pending</option>
          <option value="approved">Approved</option>
          <option value="rejected">Rejected</option>
          <option value="">All</option>
        </SelectField>
      </div>
      <ErrorMessage error={requests.error} />
      <p role="status" className="status">
        {notice}
      </p>
      <section aria-labelledby="requests-heading" aria-busy={requests.loading}>
        <h2 id="requests-heading">Change requests</h2>
        {requests.data && requests.data.length === 0 ? <p>No {state || ''} change requests.</p> : null}
        <ul className="request-list">
          {(requests.data ?? []).map(({ request, access }) => (
            <ChangeRequestItem
              key={request.id}
              request={request}
              base={base}
              myUserId={me.id}
              denialByLevel={access && access.have !== access.need ? `Must be ${access.need} to approve or reject this change request.` : null}
              onDecided={(message) => {
                setNotice(message);
                void requests.reload();
              }}
            />
          ))}
        </ul>
      </section>
      {projectId !== null ? <ApprovalPolicies key={projectId} projectId={projectId} /> : null}
    </>
  );
}
