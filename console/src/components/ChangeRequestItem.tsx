import { useState } from 'react';
import { post } from '../api/client';
import type { ChangeRequest } from '../api/types';
import { NOT_AN_APPROVER, OWN_CHANGE_REQUEST } from '../rules';
import { ErrorMessage } from './ErrorMessage';
import { TextField } from './Field';
import { GuardedButton } from './GuardedButton';
import { useAction } from './useLoad';

/** Why the viewer cannot vote on a pending request, from what the server says they may do. */
function voteDenial(r: ChangeRequest): string | null {
  if (r.can_approve) return null;
  const snapshot = r.policy_snapshot as { allow_self_approve?: boolean };
  if (r.is_requester && !snapshot.allow_self_approve) return OWN_CHANGE_REQUEST;
  if (r.user_decision) return `You have already ${r.user_decision} this change request.`;
  return NOT_AN_APPROVER;
}

/** One change request: what it changes, its votes against the quorum; pending ones can be approved, rejected or (by the requester) canceled. */
export function ChangeRequestItem({ request, base, onDecided }: { request: ChangeRequest; base: string; onDecided(message: string): void }) {
  const action = useAction();
  const [reason, setReason] = useState('');
  const denial = voteDenial(request);
  const title = `${request.action.replaceAll('_', ' ')} ${request.resource} ${request.resource_id}`;
  const display = request.intent_display as { description?: string };
  const quorum = (request.policy_snapshot as { quorum?: number }).quorum ?? 1;
  const approvals = request.approvals.filter((a) => a.decision === 'approved');
  // The list reloads after a decision (a decided request leaves the pending list): the page says what happened.
  const decide = (verb: 'approve' | 'reject' | 'cancel') =>
    void action.run(async () => {
      const result = await post<{ status: string; message: string }>(`${base}${request.id}/${verb}/`, reason ? { reason } : {});
      const done = { approve: result.status === 'approved' ? 'Approval recorded' : 'Approved', reject: 'Rejected', cancel: 'Canceled' }[verb];
      onDecided(`${done}: ${title}.`);
    });

  return (
    <li className="card request">
      <h3>{title}</h3>
      {display.description ? <p>{display.description}</p> : null}
      <p>
        Requested by {request.requested_by?.email ?? 'someone'} on {new Date(request.created_at).toLocaleString()} ·{' '}
        <span className="badge">{request.state}</span>
        {request.validation_status !== 'valid' ? <span className="badge">{request.validation_status}</span> : null}
        {request.decided_by ? ` by ${request.decided_by.email}` : ''}
        {request.reason ? ` — “${request.reason}”` : ''}
      </p>
      <p>
        Approvals: {approvals.length} of {quorum}
        {approvals.length > 0 ? ` (${approvals.map((a) => a.created_by?.email ?? 'someone').join(', ')})` : ''}
        {request.state === 'pending' ? ` · expires ${new Date(request.expires_at).toLocaleString()}` : ''}
      </p>
      {request.state === 'pending' ? (
        <div className="inline-form">
          <TextField label={`Reason (optional) for ${title}`} value={reason} onChange={(e) => setReason(e.target.value)} />
          <GuardedButton disabledReason={denial} onClick={() => decide('approve')} disabled={action.busy}>
            Approve
          </GuardedButton>
          <GuardedButton className="danger" disabledReason={denial} onClick={() => decide('reject')} disabled={action.busy}>
            Reject
          </GuardedButton>
          {request.can_cancel ? (
            <GuardedButton className="secondary" onClick={() => decide('cancel')} disabled={action.busy}>
              Cancel request
            </GuardedButton>
          ) : null}
        </div>
      ) : null}
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
    </li>
  );
}
