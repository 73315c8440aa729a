import type { Database, Queryable } from '../../store/database.js';
import {
  putAccessControl,
  logAccessControlRemoval,
  type AccessControlRecord,
  type AccessControlScope,
  type ObjectResource,
} from '../access-control/access-controls.js';
import { removeProjectMember } from '../access-control/project-members.js';
import { removeRoleMember } from '../access-control/roles.js';
import { chainPending, lockChain } from '../activity/activity-chain.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { DomainError, validation } from '../errors.js';
import { revokeOrganizationKey } from '../organizations/key-inventory.js';
import { removeMember } from '../organizations/members.js';
import { lockAsAdmin, requireAdminMembership } from '../organizations/organizations.js';
import { deleteServiceAccount } from '../organizations/service-accounts.js';
import { conflict, countItems, findReview, listItems, type ItemRecord, type ReviewCounts, type ReviewRecord } from './access-reviews.js';
import type { ItemKind } from './review-snapshot.js';

/**
 * Closing a review: an admin of the organization applies every `revoke` decision through the domain
 * operation that normally takes that grant away (so each writes its own activity entry and the
 * usual rules, the grant ceiling included, hold for the closer), all in the one transaction that
 * closes the review. A grant that is already gone is recorded as `already_gone`; a revocation the
 * closer may not make refuses the close, and nothing changes. Undecided items refuse the close
 * unless `force` is set; then they are kept. The review records the organization's activity-chain
 * head as it stands at closing (every entry committed before the close chained first).
 */
export const UNDECIDED_ITEMS = (n: number) =>
  `${n} item${n === 1 ? ' has' : 's have'} no decision: decide ${n === 1 ? 'it' : 'them'}, or close with "force": true to keep ${n === 1 ? 'it' : 'them'}.`;
export const REVIEW_ALREADY_CLOSED = 'This access review is already closed.';

/** Finer grants first: a membership's removal takes its project memberships, roles and rows with it. */
const ORDER: readonly ItemKind[] = [
  'personal_api_key',
  'access_control',
  'role_membership',
  'project_membership',
  'service_account',
  'organization_membership',
];

type Outcome = 'revoked' | 'already_gone';

async function revokeAccessControl(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, id: string): Promise<Outcome> {
  const [row] = await tx.query<AccessControlRecord>('SELECT * FROM access_controls WHERE id = $1', [id]);
  if (!row) return 'already_gone';
  const scope: AccessControlScope =
    row.resource === 'project'
      ? { kind: 'project' }
      : row.resource_id === null
        ? { kind: 'resource' }
        : { kind: 'object', resource: row.resource as ObjectResource, objectId: row.resource_id };
  try {
    await putAccessControl(tx, actor, row.team_id, scope, { access_level: null, organization_member: row.organization_member_id, resource: row.resource });
  } catch (err) {
    // The object the row is about was deleted: the row itself still goes (and is logged).
    if (!(err instanceof DomainError && err.kind === 'not_found' && scope.kind === 'object')) throw err;
    await tx.query('DELETE FROM access_controls WHERE id = $1', [row.id]);
    await logAccessControlRemoval(tx, actor, organizationId, row, { reason: 'access_review' });
  }
  return 'revoked';
}

async function revoke(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, item: ItemRecord): Promise<Outcome> {
  switch (item.kind) {
    case 'personal_api_key': {
      const [key] = await tx.query('SELECT 1 FROM personal_api_keys WHERE id = $1', [item.target_id]);
      if (!key) return 'already_gone';
      await revokeOrganizationKey(tx, actor, organizationId, item.target_id);
      return 'revoked';
    }
    case 'access_control':
      return revokeAccessControl(tx, actor, organizationId, item.target_id);
    case 'role_membership': {
      const [row] = await tx.query<{ role_id: string }>('SELECT role_id::text AS role_id FROM role_memberships WHERE id = $1', [item.target_id]);
      if (!row) return 'already_gone';
      await removeRoleMember(tx, actor, organizationId, row.role_id, item.target_id);
      return 'revoked';
    }
    case 'project_membership': {
      const [row] = await tx.query<{ project_id: number; uuid: string }>(
        `SELECT e.project_id, u.uuid::text AS uuid FROM explicit_project_memberships e
           JOIN organization_memberships m ON m.id = e.parent_membership_id JOIN users u ON u.id = m.user_id WHERE e.id = $1`,
        [item.target_id],
      );
      if (!row) return 'already_gone';
      await removeProjectMember(tx, actor, row.project_id, row.uuid);
      return 'revoked';
    }
    case 'service_account': {
      const [row] = await tx.query('SELECT 1 FROM users WHERE uuid::text = $1 AND service_account_organization_id = $2', [item.target_id, organizationId]);
      if (!row) return 'already_gone';
      await deleteServiceAccount(tx, actor, organizationId, item.target_id);
      return 'revoked';
    }
    case 'organization_membership': {
      const [row] = await tx.query<{ uuid: string }>(
        'SELECT u.uuid::text AS uuid FROM organization_memberships m JOIN users u ON u.id = m.user_id WHERE m.id = $1 AND m.organization_id = $2',
        [item.target_id, organizationId],
      );
      if (!row) return 'already_gone';
      await removeMember(tx, actor, organizationId, row.uuid);
      return 'revoked';
    }
  }
}

export interface CloseResult {
  review: ReviewRecord;
  counts: ReviewCounts;
  revoked: number;
  alreadyGone: number;
}

export async function closeReview(
  db: Database,
  actor: Actor & { userId: number },
  organizationId: string,
  reviewId: string,
  input: { force?: unknown },
): Promise<CloseResult> {
  if (input.force !== undefined && typeof input.force !== 'boolean') throw validation('Must be a valid boolean.', 'force', 'invalid');
  const force = input.force === true;
  const refusal = async (q: Queryable, lock: boolean) => {
    const review = await findReview(q, organizationId, reviewId, lock);
    if (review.status !== 'open') throw conflict(REVIEW_ALREADY_CLOSED);
    const counts = await countItems(q, review.id);
    if (counts.undecided > 0 && !force) throw validation(UNDECIDED_ITEMS(counts.undecided), 'force');
    return { review, before: counts };
  };
  // A close that will be refused changes nothing, not even the chain: checked before chaining.
  await requireAdminMembership(db, organizationId, actor.userId);
  await refusal(db, false);
  // Every entry committed so far is chained first, so the head recorded below covers them.
  await chainPending(db, organizationId);
  return db.transaction(async (tx) => {
    await lockAsAdmin(tx, organizationId, actor.userId);
    const { review, before } = await refusal(tx, true);
    const items = await listItems(tx, review.id);
    const revocations = items.filter((i) => i.decision === 'revoke').sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || a.position - b.position);
    const outcomes = { revoked: 0, already_gone: 0 };
    for (const item of revocations) {
      let outcome: Outcome;
      try {
        outcome = await revoke(tx, actor, organizationId, item);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        throw new DomainError(err.kind, `Item ${item.position} (${item.kind} of ${item.subject_email}): ${err.message}`, err.code, err.attr);
      }
      outcomes[outcome]++;
      await tx.query('UPDATE access_review_items SET outcome = $2 WHERE id = $1', [item.id, outcome]);
    }
    await tx.query("UPDATE access_review_items SET outcome = 'kept' WHERE review_id = $1 AND decision IS DISTINCT FROM 'revoke'", [review.id]);
    await lockChain(tx, organizationId);
    const [head] = await tx.query<{ chain_seq: string; hash: string }>(
      'SELECT chain_seq::text AS chain_seq, hash FROM activity_chain_heads WHERE organization_id = $1',
      [organizationId],
    );
    await tx.query(
      `UPDATE access_reviews SET status = 'closed', closed_at = now(), closed_by_id = $2, chain_head_seq = $3, chain_head_hash = $4 WHERE id = $1`,
      [review.id, actor.userId, head?.chain_seq ?? null, head?.hash ?? null],
    );
    await recordActivity(tx, {
      organizationId,
      teamId: review.project_id,
      actor,
      scope: 'Organization',
      activity: 'access_review_closed',
      itemId: review.id,
      detail: {
        name: review.name,
        changes: [{ type: 'AccessReview', action: 'changed', field: 'status', before: 'open', after: 'closed' }],
        context: {
          review_id: review.id,
          project_id: review.project_id,
          forced: force,
          undecided_kept: before.undecided,
          revoked: outcomes.revoked,
          already_gone: outcomes.already_gone,
          chain_head_seq: head ? Number(head.chain_seq) : null,
          chain_head_hash: head?.hash ?? null,
        },
      },
    });
    return {
      review: await findReview(tx, organizationId, review.id),
      counts: await countItems(tx, review.id),
      revoked: outcomes.revoked,
      alreadyGone: outcomes.already_gone,
    };
  });
}
