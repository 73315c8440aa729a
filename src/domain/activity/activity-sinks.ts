import type { Queryable } from '../../store/database.js';
import type { Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { diffFields, recordActivity } from './activity.js';
import type { Actor } from '../actor.js';
import { notFound, validation } from '../errors.js';
import { lockAsAdmin, requireAdminMembership } from '../organizations/organizations.js';
import { randomBase62 } from '../identity/tokens.js';
import { isUuid } from '../identity/users.js';

/**
 * An organization's activity-log sinks: HTTPS receivers of every new entry (delivery itself is in
 * ./activity-sink-delivery.ts). Organization admins manage them; each change is recorded (scope
 * `Organization`, `activity_sink_created|updated|deleted`) in the same transaction, never the secret.
 * A new sink receives the entries chained from its creation on (its own creation included).
 */

export const MAX_SINKS_PER_ORGANIZATION = 20;
const MAX_URL = 2048;
const MAX_DESCRIPTION = 400;

/**
 * A sink as the domain shows it: its cursor as a number, and `pending`, the entries not yet
 * acknowledged (chained ones after the cursor, plus any not chained yet).
 */
export type SinkRecord = Omit<Selectable<DB['activity_log_sinks']>, 'last_delivered_seq' | 'lease_until' | 'lease_token'> & {
  last_delivered_seq: number;
  pending: number;
};

export interface SinkInput {
  url?: string;
  description?: string;
  enabled?: boolean;
}

const SELECT = `SELECT s.id::text AS id, s.organization_id::text AS organization_id, s.url, s.description, s.enabled, s.secret,
  s.created_by_id, s.created_at, s.updated_at, s.last_delivered_seq::text AS last_delivered_seq, s.last_success_at,
  s.last_attempt_at, s.last_error, s.consecutive_failures, s.next_attempt_at,
  (greatest(coalesce((SELECT h.chain_seq FROM activity_chain_heads h WHERE h.organization_id = s.organization_id), 0) - s.last_delivered_seq, 0)
   + (SELECT count(*) FROM activity_log a WHERE a.organization_id = s.organization_id AND a.hash IS NULL))::text AS pending
  FROM activity_log_sinks s`;

type RawSink = Omit<SinkRecord, 'last_delivered_seq' | 'pending'> & { last_delivered_seq: string; pending: string };

const toSink = (r: RawSink): SinkRecord => ({ ...r, last_delivered_seq: Number(r.last_delivered_seq), pending: Number(r.pending) });

/** Only https:// URLs, without credentials in them (the secret signs instead). */
export function validateSinkUrl(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw validation('This field may not be blank.', 'url', 'blank');
  if (trimmed.length > MAX_URL) throw validation(`Ensure this field has no more than ${MAX_URL} characters.`, 'url', 'max_length');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw validation('Enter a valid URL.', 'url', 'invalid');
  }
  if (url.protocol !== 'https:') throw validation('Activity log sinks must use an https:// URL.', 'url', 'invalid');
  if (url.username || url.password) throw validation('Credentials in the URL are not allowed; verify the signature header instead.', 'url', 'invalid');
  url.hash = '';
  return url.toString();
}

function validateDescription(value: string): string {
  if (value.length > MAX_DESCRIPTION) {
    throw validation(`Ensure this field has no more than ${MAX_DESCRIPTION} characters.`, 'description', 'max_length');
  }
  return value;
}

/** What the activity log keeps of a URL: no query string (it may carry a token). */
export function loggedUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?[redacted]' : ''}`;
}

export async function listSinks(q: Queryable, actor: Actor & { userId: number }, organizationId: string): Promise<SinkRecord[]> {
  await requireAdminMembership(q, organizationId, actor.userId);
  const rows = await q.query<RawSink>(`${SELECT} WHERE s.organization_id = $1 ORDER BY s.created_at, s.id`, [organizationId]);
  return rows.map(toSink);
}

async function findSink(q: Queryable, organizationId: string, id: string, lock = false): Promise<SinkRecord> {
  if (!isUuid(id)) throw notFound();
  const [row] = await q.query<RawSink>(`${SELECT} WHERE s.organization_id = $1 AND s.id = $2${lock ? ' FOR UPDATE OF s' : ''}`, [organizationId, id]);
  if (!row) throw notFound();
  return toSink(row);
}

export async function getSink(q: Queryable, actor: Actor & { userId: number }, organizationId: string, id: string): Promise<SinkRecord> {
  await requireAdminMembership(q, organizationId, actor.userId);
  return findSink(q, organizationId, id);
}

/** Creates a sink; returns it with its signing secret (shown once). */
export async function createSink(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, input: SinkInput): Promise<SinkRecord> {
  const { organization } = await lockAsAdmin(tx, organizationId, actor.userId);
  if (input.url === undefined) throw validation('This field is required.', 'url', 'required');
  const url = validateSinkUrl(input.url);
  const description = validateDescription(input.description ?? '');
  const [counted] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log_sinks WHERE organization_id = $1', [organizationId]);
  if ((counted?.n ?? 0) >= MAX_SINKS_PER_ORGANIZATION) {
    throw validation(`An organization can have at most ${MAX_SINKS_PER_ORGANIZATION} activity log sinks.`, null, 'max_sinks');
  }
  const secret = `whsec_${randomBase62(32)}`;
  // From now on: the cursor starts at the chain's head (entries not chained yet, this one included, follow).
  const [created] = await tx.query<{ id: string }>(
    `INSERT INTO activity_log_sinks (organization_id, url, description, enabled, secret, created_by_id, last_delivered_seq)
     VALUES ($1, $2, $3, $4, $5, $6, coalesce((SELECT chain_seq FROM activity_chain_heads WHERE organization_id = $1), 0))
     RETURNING id::text AS id`,
    [organizationId, url, description, input.enabled ?? true, secret, actor.userId],
  );
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'activity_sink_created',
    itemId: created!.id,
    detail: {
      name: description || loggedUrl(url),
      changes: [{ type: 'ActivityLogSink', action: 'created' }],
      context: { organization_name: organization.name, url: loggedUrl(url), description, enabled: input.enabled ?? true },
    },
  });
  return findSink(tx, organizationId, created!.id);
}

const FIELDS = ['url', 'description', 'enabled'] as const;

export async function updateSink(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, id: string, input: SinkInput): Promise<SinkRecord> {
  await requireAdminMembership(tx, organizationId, actor.userId);
  const before = await findSink(tx, organizationId, id, true);
  const next = {
    url: input.url === undefined ? before.url : validateSinkUrl(input.url),
    description: input.description === undefined ? before.description : validateDescription(input.description),
    enabled: input.enabled ?? before.enabled,
  };
  const logged = (s: { url: string; description: string; enabled: boolean }) => ({ ...s, url: loggedUrl(s.url) });
  const changes = diffFields(logged(before), logged(next), FIELDS, 'ActivityLogSink');
  if (next.url === before.url && next.description === before.description && next.enabled === before.enabled) return before;
  // A new address or a re-enabled sink is tried again at once.
  const retryNow = next.url !== before.url || (next.enabled && !before.enabled);
  await tx.query(
    `UPDATE activity_log_sinks SET url = $3, description = $4, enabled = $5, updated_at = now()
       ${retryNow ? ', consecutive_failures = 0, next_attempt_at = now()' : ''}
     WHERE organization_id = $1 AND id = $2`,
    [organizationId, id, next.url, next.description, next.enabled],
  );
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'activity_sink_updated',
    itemId: id,
    detail: { name: next.description || loggedUrl(next.url), changes },
  });
  return findSink(tx, organizationId, id);
}

export async function deleteSink(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, id: string): Promise<void> {
  await requireAdminMembership(tx, organizationId, actor.userId);
  const sink = await findSink(tx, organizationId, id, true);
  await tx.query('DELETE FROM activity_log_sinks WHERE organization_id = $1 AND id = $2', [organizationId, id]);
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'activity_sink_deleted',
    itemId: id,
    detail: {
      name: sink.description || loggedUrl(sink.url),
      changes: [{ type: 'ActivityLogSink', action: 'deleted' }],
      context: { url: loggedUrl(sink.url), last_delivered_seq: sink.last_delivered_seq },
    },
  });
}
