import { useState } from 'react';
import { all } from '../api/client';
import type { AccessRequest } from '../api/types';
import { ACCESS_REQUESTS_CHANGED } from '../components/AccessRequestBadge';
import { AccessRequestItem } from '../components/AccessRequestItem';
import { ErrorMessage } from '../components/ErrorMessage';
import { useLoad } from '../components/useLoad';
import { useSession } from '../session';

/** Access requests: the organization's pending requests the viewer could grant (the server decides who), to approve or deny. */
export function AccessRequests() {
  const { organization } = useSession();
  const orgId = organization?.id ?? '';
  const [notice, setNotice] = useState<string | null>(null);
  const requests = useLoad(() => all<AccessRequest>(`/api/organizations/${orgId}/access_requests/`), [orgId]);

  return (
    <>
      <h1>Access requests</h1>
      <p className="muted">
        Requests from members refused a project or a resource, that you could grant. An approval may give a lower level or a shorter time.
      </p>
      <ErrorMessage error={requests.error} />
      <p role="status" className="status">
        {notice}
      </p>
      <section aria-labelledby="pending-heading" aria-busy={requests.loading}>
        <h2 id="pending-heading">Pending</h2>
        {requests.data && requests.data.length === 0 ? <p>No pending access requests.</p> : null}
        <ul className="request-list">
          {(requests.data ?? []).map((request) => (
            <AccessRequestItem
              key={request.id}
              request={request}
              onDecided={(message) => {
                setNotice(message);
                window.dispatchEvent(new Event(ACCESS_REQUESTS_CHANGED));
                void requests.reload();
              }}
            />
          ))}
        </ul>
      </section>
    </>
  );
}
