import { randomUUID } from 'node:crypto';
import { targetBreach } from '../../access/grant-ceiling.js';
import { OrganizationLevel } from '../../access/levels.js';
import type { Queryable } from '../../store/database.js';
import { qb, rows as all } from '../../store/query-builder.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { createApiKey, deleteApiKey, listApiKeys, rollApiKey, updateApiKey, type KeyInput } from './api-keys.js';
import { notFound, permissionDenied, validation } from '../errors.js';
import { addMembership, lockAsAdmin } from './organizations.js';
import type { OrganizationRecord, PersonalApiKeyRecord, UserRecord } from '../records.js';
import { isUuid } from '../identity/users.js';

/**
 * Service accounts: principals an organization owns, not tied to a person. They are members of
 * their one organization (level member or admin), hold project-scoped keys made by admins, keep
 * working when the admin who made them leaves, and cannot log in (they have no password).
 */
export type ServiceAccountRow = UserRecord & { level: number };

const SERVICE_ACCOUNT_DOMAIN = 'service-accounts.warden.invalid';

/** The organization's service accounts with their membership level. */
const serviceAccounts = (organizationId: string) =>
  qb
    .selectFrom('users as u')
    .innerJoin('organization_memberships as m', (join) => join.onRef('m.user_id', '=', 'u.id').on('m.organization_id', '=', organizationId))
    .selectAll('u')
    .select('m.level')
    .where((eb) => eb.ref('u.is_service_account'))
    .where('u.service_account_organization_id', '=', organizationId);

export async function listServiceAccounts(q: Queryable, organizationId: string): Promise<ServiceAccountRow[]> {
  return all(q, serviceAccounts(organizationId).orderBy('u.id'));
}

export async function findServiceAccount(q: Queryable, organizationId: string, id: string): Promise<ServiceAccountRow> {
  const rows = isUuid(id) ? await all(q, serviceAccounts(organizationId).where('u.uuid', '=', id)) : [];
  if (!rows[0]) throw notFound();
  return rows[0];
}

const requireAdmin = (tx: Queryable, organizationId: string, actor: Actor & { userId: number }) => lockAsAdmin(tx, organizationId, actor.userId);

/**
 * An admin controls a service account (its keys, its deletion) only up to their own level: a key
 * for an Owner-level account would let an Admin act as an Owner.
 */
async function controlledAccount(
  tx: Queryable,
  organizationId: string,
  actor: Actor & { userId: number },
  id: string,
): Promise<{ organization: OrganizationRecord; account: ServiceAccountRow }> {
  const { organization, level } = await requireAdmin(tx, organizationId, actor);
  const account = await findServiceAccount(tx, organizationId, id);
  if (targetBreach(level, account.level)) throw permissionDenied(SERVICE_ACCOUNT_ABOVE_LEVEL);
  return { organization, account };
}

export const SERVICE_ACCOUNT_ABOVE_LEVEL = 'You can only manage service accounts with a level lower or equal to yours.';

function validateName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw validation('This field may not be blank.', 'name', 'blank');
  if (trimmed.length > 150) throw validation('Ensure this field has no more than 150 characters.', 'name', 'max_length');
  return trimmed;
}

export async function createServiceAccount(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  input: { name: string; level?: number },
): Promise<ServiceAccountRow> {
  const { organization } = await requireAdmin(tx, organizationId, actor);
  const name = validateName(input.name);
  const level = input.level ?? OrganizationLevel.MEMBER;
  if (level !== OrganizationLevel.MEMBER && level !== OrganizationLevel.ADMIN) {
    throw validation(`"${level}" is not a valid choice.`, 'level', 'invalid_choice');
  }
  const [user] = await tx.query<UserRecord>(
    `INSERT INTO users (distinct_id, email, first_name, password_hash, is_service_account, service_account_organization_id,
                        created_by_id, current_organization_id)
     VALUES ($1, $2, $3, NULL, true, $4, $5, $4) RETURNING *`,
    [randomUUID(), `${randomUUID()}@${SERVICE_ACCOUNT_DOMAIN}`, name, organizationId, actor.userId],
  );
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'service_account_created',
    itemId: user!.uuid,
    detail: {
      name,
      changes: [{ type: 'ServiceAccount', action: 'created', field: 'level', before: null, after: level }],
      context: { organization_name: organization.name, service_account_uuid: user!.uuid },
    },
  });
  await addMembership(tx, actor, organization, user!, level, 'service_account');
  return { ...user!, level };
}

export async function deleteServiceAccount(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, id: string): Promise<void> {
  const { organization, account } = await controlledAccount(tx, organizationId, actor, id);
  await recordActivity(tx, {
    organizationId,
    actor,
    scope: 'Organization',
    activity: 'service_account_deleted',
    itemId: account.uuid,
    detail: {
      name: account.first_name,
      changes: [{ type: 'ServiceAccount', action: 'deleted' }],
      context: { organization_name: organization.name, service_account_uuid: account.uuid },
    },
  });
  // Its memberships and keys go with it: revocation is immediate.
  await tx.query('DELETE FROM users WHERE id = $1', [account.id]);
}

export async function listServiceAccountKeys(q: Queryable, organizationId: string, id: string): Promise<PersonalApiKeyRecord[]> {
  const account = await findServiceAccount(q, organizationId, id);
  return listApiKeys(q, account.id);
}

/** A key for the service account, always scoped to its organization. */
export async function createServiceAccountKey(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  id: string,
  input: KeyInput,
): Promise<{ key: PersonalApiKeyRecord; value: string }> {
  const { account } = await controlledAccount(tx, organizationId, actor, id);
  return createApiKey(tx, actor, account, { ...input, scoped_organizations: [organizationId] });
}

/** Changes a key of the service account (its label, scopes, projects, expiry, ranges, rate); it stays scoped to its organization. */
export async function updateServiceAccountKey(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  id: string,
  keyId: string,
  input: KeyInput,
): Promise<PersonalApiKeyRecord> {
  const { account } = await controlledAccount(tx, organizationId, actor, id);
  return updateApiKey(tx, actor, account, keyId, { ...input, scoped_organizations: undefined });
}

export async function rollServiceAccountKey(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  id: string,
  keyId: string,
): Promise<{ key: PersonalApiKeyRecord; value: string }> {
  const { account } = await controlledAccount(tx, organizationId, actor, id);
  return rollApiKey(tx, actor, account, keyId);
}

export async function deleteServiceAccountKey(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  id: string,
  keyId: string,
): Promise<void> {
  const { account } = await controlledAccount(tx, organizationId, actor, id);
  await deleteApiKey(tx, actor, account, keyId);
}
