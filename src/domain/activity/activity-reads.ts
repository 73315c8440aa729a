import type { Database } from '../../store/database.js';
import { recordActivity } from './activity.js';
import type { Actor } from '../actor.js';

/**
 * Read-access events for sensitive data, when the organization turns on `log_sensitive_reads`:
 * viewing or listing session recordings (scope `Replay`, as PostHog and the recording's deletion
 * entries use: `viewed`, `listed`) and reading events (scope `Event`: `viewed` for the list and one
 * event, `queried` for the query endpoint, `exported`), with the user and, through a key, its id. A read changes nothing, so its
 * entry has its own transaction; it is written before the data goes out, and a read that cannot be
 * recorded is not served (the error propagates).
 */
export interface SensitiveRead {
  organizationId: string;
  projectId: number;
  actor: Actor;
  scope: 'Replay' | 'Event';
  activity: 'viewed' | 'listed' | 'queried' | 'exported';
  itemId: string | null;
  name: string | null;
  context?: Record<string, unknown>;
}

export async function recordSensitiveRead(db: Database, read: SensitiveRead): Promise<void> {
  const [org] = await db.query<{ on: boolean }>('SELECT log_sensitive_reads AS on FROM organizations WHERE id = $1', [read.organizationId]);
  if (!org?.on) return;
  await db.transaction((tx) =>
    recordActivity(tx, {
      organizationId: read.organizationId,
      teamId: read.projectId,
      actor: read.actor,
      scope: read.scope,
      activity: read.activity,
      itemId: read.itemId,
      detail: { name: read.name, context: read.context ?? null },
    }),
  );
}
