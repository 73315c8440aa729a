import { useState } from 'react';
import { post } from '../api/client';
import type { ChangeRequest } from '../api/types';
import { OWN_CHANGE_REQUEST } from '../rules';
import { ErrorMessage } from './ErrorMessage';
import { TextField } from './Field';
import { GuardedButton } from './GuardedButton';
import { useAction } from './useLoad';

/** One change request; pending ones can be approved or rejected, with an optional reason. */
export function ChangeRequestItem({ request, base, myUserId, denialByLevel, onDecided }: { request: ChangeRequest; base: string; myUserId: number; denialByLevel: string | null; onDecided(message: string): void }) {
  const action = useAction();
  const [reason, setReason] = useState('');
  const denial = request.requested_by?.id === myUserId ? OWN_CHANGE_REQUEST : denialByLevel;
  const title = `${request.action.replaceAll('_', ' ')} ${request.resource} ${request.resource_id}`;
  // The list reloads after a decision (a decided request leaves the pending list): the page says what happened.
  const decide = (verb: 'approve' | 'reject') =>
    void action.run(async () => {
      await post(`${base}${request.id}/${verb}/`, reason ? { reason } : {});
      onDecided(`${verb === 'approve' ? 'Approved' : 'Rejected'}: ${title}.`);
    });

  return (
    <li className="card request">
      <h3>{title}</h3>
      <p>
        Requested by {request.requested_by?.email ?? 'someone'} on {new Date(request.created_at).toLocaleString()} · <span className="badge">{request.state}</span>
        {request.decided_by ? ` by ${request.decided_by.email}` : ''}
        {request.reason ? ` — “${request.reason}”` : ''}
      </p>
      {request.state === 'pending' ? (
        <div className="inline-form">
          <TextField label={`Reason (optional) for ${title}`} value={reason} onChange={(e) => setReason(e.target.value)} disabled={Boolean(denial)} />
          <GuardedButton disabledReason={denial} onClick={() => decide('approve')} disabled={action.busy}>
            Approve
          </GuardedButton>
          <GuardedButton className="danger" disabledReason={denial} onClick={() => decide('reject')} disabled={action.busy}>
            Reject
          </GuardedButton>
        </div>
      ) : null}
      <ErrorMessage error={action.error} />
      <p role="status" className="status">
        {action.message}
      </p>
    </li>
  );
}
