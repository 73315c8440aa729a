import { readThrough } from '../../cache/read-through.js';
import { OrganizationLevel } from '../../access/levels.js';
import { expiryUnderPolicy, rangesRefusal, scopesOutsidePolicy, type KeyPolicy } from '../../access/key-policy.js';
import { compileRanges, normalizeRanges, type KeyNetworks } from '../../access/key-networks.js';
import { keysDisallowedMessage, scopeOutsidePolicyMessage } from '../../access/messages.js';
import { ALL_SCOPES, isValidScope } from '../../access/scopes.js';
import type { Queryable } from '../../store/database.js';
import { qb, row, rows } from '../../store/query-builder.js';
import { diffFields, recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { listVisibleProjects } from './projects.js';
import type { PersonalApiKeyRecord, UserRecord } from '../records.js';
import { randomBase62, sha256Hex } from '../identity/tokens.js';

export const MAX_API_KEYS_PER_USER = 10;
export const MAX_LABEL_LENGTH = 40;
const KEY_PREFIX = 'phx_';

/** `phx_` + 48 base62 characters from the crypto RNG (over 280 bits, PostHog's 35 bytes). */
export const newKeyValue = () => `${KEY_PREFIX}${randomBase62(48)}`;
export const hashKeyValue = (value: string) => `sha256$${sha256Hex(value)}`;
export const maskKeyValue = (value: string) => (value.length < 16 ? '********' : `${value.slice(0, 4)}...${value.slice(-4)}`);

export interface KeyInput {
  label?: string;
  scopes?: unknown;
  scoped_teams?: number[] | null;
  scoped_organizations?: string[] | null;
  expires_at?: string | null;
  /** Address ranges (CIDR or bare addresses) the key may be used from; null or [] = anywhere. */
  allowed_ips?: string[] | null;
  /** Requests per minute; null = no limit. */
  rate_limit_per_minute?: number | null;
}

/** The highest rate a key may be given (requests per minute). */
export const MAX_KEY_RATE_PER_MINUTE = 1_000_000;

function validateLabel(label: string | undefined): string {
  if (label === undefined) throw validation('This field is required.', 'label', 'required');
  const trimmed = label.trim();
  if (!trimmed) throw validation('This field may not be blank.', 'label', 'blank');
  if (trimmed.length > MAX_LABEL_LENGTH) {
    throw validation(`Ensure this field has no more than ${MAX_LABEL_LENGTH} characters.`, 'label', 'max_length');
  }
  return trimmed;
}

function validateScopes(scopes: unknown): string[] {
  if (scopes === undefined || scopes === null) throw validation('This field is required.', 'scopes', 'required');
  if (!Array.isArray(scopes) || scopes.length === 0) throw validation('This field is required.', 'scopes', 'required');
  for (const s of scopes) if (!isValidScope(s)) throw validation(`Invalid scope: ${String(s)}`, 'scopes');
  return [...new Set(scopes as string[])];
}

function validateExpiry(value: string | null | undefined): Date | null {
  if (value === undefined || value === null) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw validation('Datetime has wrong format. Use an ISO 8601 date and time.', 'expires_at', 'invalid_input');
  }
  if (date.getTime() <= Date.now()) throw validation('The expiry must be in the future.', 'expires_at');
  return date;
}

function validateRanges(value: string[] | null | undefined): string[] | null {
  const result = normalizeRanges(value);
  if ('error' in result) throw validation(result.error, 'allowed_ips', 'invalid_input');
  return result.ranges;
}

function validateRate(value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || value < 1 || value > MAX_KEY_RATE_PER_MINUTE) {
    throw validation(
      `Ensure this value is a whole number of requests per minute from 1 to ${MAX_KEY_RATE_PER_MINUTE}.`,
      'rate_limit_per_minute',
      'invalid_input',
    );
  }
  return value;
}

interface ReachableOrganization {
  id: string;
  name: string;
  level: number;
  members_can_use_personal_api_keys: boolean;
  personal_api_keys_max_lifetime_days: number | null;
  personal_api_keys_allowed_scopes: string[] | null;
  require_key_ip_ranges: boolean;
}

/** Organizations a key can reach: its scoped organizations, those of its scoped projects, or all of the user's. */
async function reachableOrganizations(
  q: Queryable,
  userId: number,
  scopedTeams: number[] | null,
  scopedOrganizations: string[] | null,
): Promise<ReachableOrganization[]> {
  return q.query<ReachableOrganization>(
    `SELECT o.id, o.name, m.level, o.members_can_use_personal_api_keys,
            o.personal_api_keys_max_lifetime_days, o.personal_api_keys_allowed_scopes, o.require_key_ip_ranges
       FROM organizations o JOIN organization_memberships m ON m.organization_id = o.id AND m.user_id = $1
      WHERE ($2::uuid[] IS NULL OR o.id = ANY($2::uuid[]))
        AND ($3::int[] IS NULL OR o.id IN (SELECT organization_id FROM projects WHERE id = ANY($3::int[])))
      ORDER BY o.created_at`,
    [userId, scopedOrganizations, scopedTeams],
  );
}

const policyOf = (org: ReachableOrganization): KeyPolicy => ({
  organizationName: org.name,
  allowedScopes: org.personal_api_keys_allowed_scopes,
  maxLifetimeDays: org.personal_api_keys_max_lifetime_days,
  requireIpRanges: org.require_key_ip_ranges,
});

/**
 * Every organization the key reaches must allow it: members' keys at all, its scopes within the
 * organization's boundary, its lifetime within the organization's maximum. Returns the expiry the
 * key gets (the earliest deadline when none was requested).
 */
async function applyOrganizationPolicies(
  q: Queryable,
  user: UserRecord,
  key: { scopes: string[]; scoped_teams: number[] | null; scoped_organizations: string[] | null; expires_at: Date | null; allowed_ips: string[] | null },
  now: Date,
): Promise<Date | null> {
  let expiresAt = key.expires_at;
  for (const org of await reachableOrganizations(q, user.id, key.scoped_teams, key.scoped_organizations)) {
    if (!org.members_can_use_personal_api_keys && org.level < OrganizationLevel.ADMIN) {
      throw permissionDenied(keysDisallowedMessage(org.name));
    }
    const policy = policyOf(org);
    const outside = scopesOutsidePolicy(key.scopes, policy.allowedScopes);
    if (outside.length > 0) {
      throw validation(scopeOutsidePolicyMessage(org.name, outside[0]!), 'scopes');
    }
    const withoutRanges = rangesRefusal(policy, key.allowed_ips !== null);
    if (withoutRanges) throw validation(withoutRanges, 'allowed_ips', 'required');
    const expiry = expiryUnderPolicy(policy, now, expiresAt);
    if ('error' in expiry) throw validation(expiry.error, 'expires_at');
    expiresAt = expiry.expiresAt;
  }
  return expiresAt;
}

async function assertScopedTargets(q: Queryable, user: UserRecord, teams: number[] | null, orgs: string[] | null): Promise<void> {
  if (teams && teams.length > 0) {
    const visible = new Set((await listVisibleProjects(q, user.id)).map((p) => p.id));
    if (!teams.every((t) => visible.has(t))) {
      throw validation('You must be a member of all teams that you are scoping the key to.', 'scoped_teams');
    }
  }
  if (orgs && orgs.length > 0) {
    const mine = new Set(
      (await q.query<{ id: string }>('SELECT organization_id AS id FROM organization_memberships WHERE user_id = $1', [user.id])).map((r) => r.id),
    );
    if (!orgs.every((o) => mine.has(o))) {
      throw validation('You must be a member of all organizations that you are scoping the key to.', 'scoped_organizations');
    }
  }
}

/** Writes the key's entry in every organization it reaches (`extra` joins the context). */
export async function logKeyActivity(
  tx: Queryable,
  actor: Actor,
  user: UserRecord,
  key: PersonalApiKeyRecord,
  activity: string,
  changes: Array<{ type: string; action: 'changed' | 'created' | 'deleted'; field?: string; before?: unknown; after?: unknown }>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  for (const org of await reachableOrganizations(tx, user.id, key.scoped_teams, key.scoped_organizations)) {
    await recordActivity(tx, {
      organizationId: org.id,
      actor,
      scope: 'Organization',
      activity,
      itemId: key.id,
      detail: {
        name: key.label,
        changes,
        context: { user_id: user.id, user_email: user.email, organization_name: org.name, mask_value: key.mask_value, ...extra },
      },
    });
  }
}

const normalizeList = <T>(list: T[] | null | undefined): T[] | null => (list && list.length > 0 ? [...new Set(list)] : null);

export async function createApiKey(tx: Queryable, actor: Actor, user: UserRecord, input: KeyInput): Promise<{ key: PersonalApiKeyRecord; value: string }> {
  const label = validateLabel(input.label);
  const scopes = validateScopes(input.scopes);
  const scopedTeams = normalizeList(input.scoped_teams);
  const scopedOrganizations = normalizeList(input.scoped_organizations);
  const requestedExpiry = validateExpiry(input.expires_at);
  const allowedIps = validateRanges(input.allowed_ips);
  const rate = validateRate(input.rate_limit_per_minute);
  await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
  const [count] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM personal_api_keys WHERE user_id = $1', [user.id]);
  if ((count?.n ?? 0) >= MAX_API_KEYS_PER_USER) {
    throw validation(`You can only have ${MAX_API_KEYS_PER_USER} personal API keys. Remove an existing key before creating a new one.`, null, 'max_keys');
  }
  await assertScopedTargets(tx, user, scopedTeams, scopedOrganizations);
  const expiresAt = await applyOrganizationPolicies(
    tx,
    user,
    { scopes, scoped_teams: scopedTeams, scoped_organizations: scopedOrganizations, expires_at: requestedExpiry, allowed_ips: allowedIps },
    new Date(),
  );
  const value = newKeyValue();
  const [key] = await tx.query<PersonalApiKeyRecord>(
    `INSERT INTO personal_api_keys (id, user_id, label, mask_value, secure_value, scopes, scoped_teams, scoped_organizations, expires_at,
                                    allowed_ips, rate_limit_per_minute)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
    [randomBase62(32), user.id, label, maskKeyValue(value), hashKeyValue(value), scopes, scopedTeams, scopedOrganizations, expiresAt, allowedIps, rate],
  );
  await logKeyActivity(tx, actor, user, key!, 'api_key_created', [
    { type: 'PersonalAPIKey', action: 'created', field: 'scopes', before: null, after: scopes },
    ...(allowedIps ? [{ type: 'PersonalAPIKey', action: 'created' as const, field: 'allowed_ips', before: null, after: allowedIps }] : []),
    ...(rate !== null ? [{ type: 'PersonalAPIKey', action: 'created' as const, field: 'rate_limit_per_minute', before: null, after: rate }] : []),
  ]);
  return { key: key!, value };
}

export async function listApiKeys(q: Queryable, userId: number): Promise<PersonalApiKeyRecord[]> {
  return rows(q, qb.selectFrom('personal_api_keys').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id'));
}

export async function getApiKey(q: Queryable, userId: number, id: string, currentKeyId?: string): Promise<PersonalApiKeyRecord> {
  const keyId = id === '@current' ? currentKeyId : id;
  const key = keyId ? await row(q, qb.selectFrom('personal_api_keys').selectAll().where('id', '=', keyId).where('user_id', '=', userId)) : undefined;
  if (!key) throw notFound();
  return key;
}

async function lockKey(tx: Queryable, userId: number, id: string): Promise<PersonalApiKeyRecord> {
  const key = await row(tx, qb.selectFrom('personal_api_keys').selectAll().where('id', '=', id).where('user_id', '=', userId).forUpdate());
  if (!key) throw notFound();
  return key;
}

export async function updateApiKey(tx: Queryable, actor: Actor, user: UserRecord, id: string, input: KeyInput): Promise<PersonalApiKeyRecord> {
  const before = await lockKey(tx, user.id, id);
  const next = { ...before };
  if (input.label !== undefined) next.label = validateLabel(input.label);
  if (input.scopes !== undefined) next.scopes = validateScopes(input.scopes);
  if (input.scoped_teams !== undefined) next.scoped_teams = normalizeList(input.scoped_teams);
  if (input.scoped_organizations !== undefined) next.scoped_organizations = normalizeList(input.scoped_organizations);
  if (input.expires_at !== undefined) next.expires_at = validateExpiry(input.expires_at);
  if (input.allowed_ips !== undefined) next.allowed_ips = validateRanges(input.allowed_ips);
  if (input.rate_limit_per_minute !== undefined) next.rate_limit_per_minute = validateRate(input.rate_limit_per_minute);
  await assertScopedTargets(tx, user, next.scoped_teams, next.scoped_organizations);
  next.expires_at = await applyOrganizationPolicies(tx, user, next, new Date(before.created_at));
  const changes = diffFields(
    before,
    next,
    ['label', 'scopes', 'scoped_teams', 'scoped_organizations', 'expires_at', 'allowed_ips', 'rate_limit_per_minute'],
    'PersonalAPIKey',
  );
  if (changes.length === 0) return before;
  const [after] = await tx.query<PersonalApiKeyRecord>(
    `UPDATE personal_api_keys SET label = $2, scopes = $3, scoped_teams = $4, scoped_organizations = $5, expires_at = $6,
            allowed_ips = $7, rate_limit_per_minute = $8
      WHERE id = $1 RETURNING *`,
    [id, next.label, next.scopes, next.scoped_teams, next.scoped_organizations, next.expires_at, next.allowed_ips, next.rate_limit_per_minute],
  );
  await logKeyActivity(tx, actor, user, after!, 'api_key_updated', changes);
  return after!;
}

export async function rollApiKey(tx: Queryable, actor: Actor, user: UserRecord, id: string): Promise<{ key: PersonalApiKeyRecord; value: string }> {
  await lockKey(tx, user.id, id);
  const value = newKeyValue();
  const [key] = await tx.query<PersonalApiKeyRecord>(
    `UPDATE personal_api_keys SET secure_value = $2, mask_value = $3, last_rolled_at = now() WHERE id = $1 RETURNING *`,
    [id, hashKeyValue(value), maskKeyValue(value)],
  );
  await logKeyActivity(tx, actor, user, key!, 'api_key_rolled', [{ type: 'PersonalAPIKey', action: 'changed', field: 'value' }]);
  return { key: key!, value };
}

export async function deleteApiKey(tx: Queryable, actor: Actor, user: UserRecord, id: string): Promise<void> {
  const key = await lockKey(tx, user.id, id);
  await logKeyActivity(tx, actor, user, key, 'api_key_deleted', [{ type: 'PersonalAPIKey', action: 'deleted' }]);
  await tx.query('DELETE FROM personal_api_keys WHERE id = $1', [id]);
}

/** The key and its user for a presented value, or undefined. Lookup is by hash; no plain value is stored. */
export async function findKeyByValue(
  q: Queryable,
  value: string,
): Promise<{ key: PersonalApiKeyRecord; user: UserRecord; networks: KeyNetworks | null } | undefined> {
  if (!value.startsWith(KEY_PREFIX) || value.length > 200) return undefined;
  const secureValue = hashKeyValue(value);
  return readThrough(
    q,
    'key',
    secureValue,
    async () => {
      const [row] = await q.query<PersonalApiKeyRecord & { user: UserRecord }>(
        `SELECT k.*, row_to_json(u.*) AS user FROM personal_api_keys k JOIN users u ON u.id = k.user_id WHERE k.secure_value = $1`,
        [secureValue],
      );
      if (!row) return undefined;
      const { user, ...key } = row;
      // The ranges are compiled once per read and kept with the cached key: no work per request.
      return { key, user, networks: compileRanges(key.allowed_ips) };
    },
    ({ key, user }) => [`key:${key.id}`, `user:${user.id}`],
  );
}

const TOUCH_INTERVAL_MS = 3_600_000;

/** PostHog updates `last_used_at` at most once an hour: the write is skipped while the key's is recent. */
export async function touchApiKey(q: Queryable, key: Pick<PersonalApiKeyRecord, 'id' | 'last_used_at'>): Promise<void> {
  if (key.last_used_at !== null && Date.now() - new Date(key.last_used_at).getTime() < TOUCH_INTERVAL_MS) return;
  const id = key.id;
  await q.query(
    `UPDATE personal_api_keys SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 hour')`,
    [id],
  );
}

export const hasAllScopes = (key: Pick<PersonalApiKeyRecord, 'scopes'>) => key.scopes.includes(ALL_SCOPES);
