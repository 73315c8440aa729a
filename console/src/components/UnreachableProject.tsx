import { ApiError, get } from '../api/client';
import { RequestAccess } from './RequestAccess';
import { useLoad } from './useLoad';

/** A project the list does not show: refused (403, then one may ask for access), or not there at all. */
export function UnreachableProject({ projectId }: { projectId: number }) {
  const probe = useLoad(async () => {
    try {
      await get(`/api/projects/${projectId}/`);
      return null;
    } catch (err) {
      return err instanceof ApiError ? err : null;
    }
  }, [projectId]);
  if (probe.loading) return null;
  const refusal = probe.data;
  if (refusal && refusal.status === 403) return <RequestAccess projectId={projectId} detail={refusal.detail} />;
  return <p>This project does not exist or you cannot reach it.</p>;
}
