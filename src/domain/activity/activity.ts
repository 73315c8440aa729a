import type { Queryable } from '../../store/database.js';
import type { Actor } from '../actor.js';

export interface Change {
  type: string;
  action: 'changed' | 'created' | 'deleted';
  field?: string;
  before?: unknown;
  after?: unknown;
}

export interface ActivityDetail {
  name: string | null;
  changes?: Change[] | null;
  context?: Record<string, unknown> | null;
  trigger?: Record<string, unknown> | null;
  short_id?: string | null;
  type?: string | null;
}

export interface ActivityEntry {
  organizationId: string | null;
  teamId?: number | null;
  actor: Actor;
  scope: string;
  activity: string;
  itemId: string | number | null;
  detail: ActivityDetail;
}

/**
 * Writes one activity-log entry. Always called with the transaction that makes the change it
 * describes, so there is never a change without its entry or an entry without its change.
 */
export async function recordActivity(tx: Queryable, entry: ActivityEntry): Promise<void> {
  const detail = {
    name: entry.detail.name,
    changes: entry.detail.changes ?? null,
    context: {
      ...(entry.detail.context ?? {}),
      ...(entry.actor.apiKeyId ? { via_api_key_id: entry.actor.apiKeyId } : {}),
      ...(entry.actor.batch ?? {}),
      ...(entry.actor.requestId ? { request_id: entry.actor.requestId } : {}),
    },
    trigger: entry.detail.trigger ?? null,
    short_id: entry.detail.short_id ?? null,
    type: entry.detail.type ?? null,
  };
  await tx.query(
    `INSERT INTO activity_log (organization_id, team_id, user_id, is_system, activity, scope, item_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      entry.organizationId,
      entry.teamId ?? null,
      entry.actor.userId,
      entry.actor.isSystem,
      entry.activity,
      entry.scope,
      entry.itemId === null ? null : String(entry.itemId),
      JSON.stringify(detail),
    ],
  );
}

/** Field-level changes between two records, for the fields named. */
export function diffFields<T extends object>(before: T, after: T, fields: readonly (keyof T & string)[], type: string): Change[] {
  const changes: Change[] = [];
  for (const field of fields) {
    if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) {
      changes.push({ type, action: 'changed', field, before: before[field], after: after[field] });
    }
  }
  return changes;
}
