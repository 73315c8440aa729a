import { useState } from 'react';
import { all } from '../api/client';
import type { ChangeRequest } from '../api/types';
import { ApprovalPolicies } from '../components/ApprovalPolicies';
import { ChangeRequestItem } from '../components/ChangeRequestItem';
import { ErrorMessage } from '../components/ErrorMessage';
import { SelectField } from '../components/Field';
import { useLoad } from '../components/useLoad';
import { useSession } from '../session';

/** Approvals: a project's change requests, pending first, decided by their approvers (the server says who may vote), and the approval policies. */
export function Approvals() {
  const { organization, me } = useSession();
  const projects = organization?.teams ?? [];
  const [projectId, setProjectId] = useState<number | null>(me.team?.id ?? projects[0]?.id ?? null);
  const [state, setState] = useState('pending');
  const [notice, setNotice] = useState<string | null>(null);
  const base = `/api/projects/${projectId}/change_requests/`;
  const requests = useLoad(async () => (projectId === null ? [] : all<ChangeRequest>(`${base}${state ? `?state=${state}` : ''}`)), [projectId, state]);

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
          <option value="applied">Applied</option>
          <option value="approved">Approved</option>
          <option value="rejected">Rejected</option>
          <option value="expired">Expired</option>
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
          {(requests.data ?? []).map((request) => (
            <ChangeRequestItem
              key={request.id}
              request={request}
              base={base}
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
