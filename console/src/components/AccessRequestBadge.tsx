import { useEffect, useState } from 'react';
import { get, type Page } from '../api/client';
import type { AccessRequest } from '../api/types';
import { usePath } from '../router';
import { useSession } from '../session';

/** Said by the access-requests page after a decision, so the navigation's count follows at once. */
export const ACCESS_REQUESTS_CHANGED = 'warden:access-requests-changed';

/** The navigation's count of pending access requests the viewer may decide (none shown at zero). */
export function AccessRequestBadge() {
  const { organization } = useSession();
  const path = usePath();
  const [count, setCount] = useState(0);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const bump = () => setTick((t) => t + 1);
    window.addEventListener(ACCESS_REQUESTS_CHANGED, bump);
    return () => window.removeEventListener(ACCESS_REQUESTS_CHANGED, bump);
  }, []);
  useEffect(() => {
    if (!organization) return;
    let live = true;
    get<Page<AccessRequest>>(`/api/organizations/${organization.id}/access_requests/?limit=1`)
      .then((page) => live && setCount(page.count ?? 0))
      .catch(() => live && setCount(0));
    return () => {
      live = false;
    };
  }, [organization, path, tick]);
  if (count === 0) return null;
  const what = `pending access request${count === 1 ? '' : 's'}`;
  return (
    <span className="badge warn" title={`${count} ${what}`}>
      {count}
      <span className="visually-hidden"> {what}</span>
    </span>
  );
}
