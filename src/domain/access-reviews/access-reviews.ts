import { ceilingMessage, targetBreach } from '../../access/grant-ceiling.js';
import { OrganizationLevel } from '../../access/levels.js';
import { INSUFFICIENT_ORG_LEVEL } from '../../access/messages.js';
import type { Queryable } from '../../store/database.js';
import { pgErrorCode, PgCode } from '../../store/database.js';
import { usersWithAccess } from '../access-control/users-with-access.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { DomainError, notFound, permissionDenied, validation } from '../errors.js';
import { isUuid } from '../identity/users.js';
import { lockAsAdmin, requireMembership } from '../organizations/organizations.js';
import { snapshot, type ItemKind } from './review-snapshot.js';

/**
 * Access reviews (issue 25, part 3; docs/access-reviews.md). An organization admin starts a review of
 * the organization or of one project; its items are a snapshot of every grant in scope
 * (review-snapshot.ts). The assigned reviewers, and the organization's admins, keep or revoke each
 * item; an admin closes the review (review-close.ts), which applies the revocations. Starting,
 * each decision and closing write their activity-log entry in the same transaction.
 */
export interface ReviewRecord {
  id: string;
  organization_id: string;
  project_id: number | null;
  name: string;
  status: 'open' | 'closed';
  reviewer_ids: number[];
  due_at: Date | null;
  created_by_id: number | null;
  created_at: Date;
  closed_at: Date | null;
  closed_by_id: number | null;
  chain_head_seq: string | null;
  chain_head_hash: string | null;
}

export interface ItemRecord {
  id: string;
  review_id: string;
  position: number;
  kind: ItemKind;
  target_id: string;
  project_id: number | null;
  subject_user_id: number | null;
  subject_uuid: string;
  subject_email: string;
  subject_is_service_account: boolean;
  subject_level: number;
  access: string;
  detail: Record<string, unknown>;
  flags: string[];
  revocable: boolean;
  decision: 'keep' | 'revoke' | null;
  note: string;
  decided_by_id: number | null;
  decided_by_email: string | null;
  decided_at: Date | null;
  outcome: 'kept' | 'revoked' | 'already_gone' | null;
}

export interface ReviewCounts {
  items: number;
  undecided: number;
  keep: number;
  revoke: number;
  flagged: number;
}

export const REVIEW_OVERLAPS = 'An open access review of this scope already exists: close it before starting another.';
export const REVIEW_CLOSED = 'This access review is closed: its decisions can no longer change.';
export const NOT_A_REVIEWER = 'You are not a reviewer of this access review.';
export const NOT_REVOCABLE_HERE = 'Access through the organization membership is revoked in a review of the organization, not of one project.';
export const MAX_NOTE_LENGTH = 2000;

const REVIEW_COLUMNS = `id::text AS id, organization_id::text AS organization_id, project_id, name, status, reviewer_ids, due_at,
  created_by_id, created_at, closed_at, closed_by_id, chain_head_seq::text AS chain_head_seq, chain_head_hash`;
const ITEM_COLUMNS = `id::text AS id, review_id::text AS review_id, position, kind, target_id, project_id, subject_user_id, subject_uuid,
  subject_email, subject_is_service_account, subject_level, access, detail, flags, revocable, decision, note, decided_by_id,
  decided_by_email, decided_at, outcome`;

export const conflict = (detail: string) => new DomainError('conflict', detail, 'conflict');

export interface ReviewInput {
  name?: unknown;
  project_id?: unknown;
  reviewer_ids?: unknown;
  due_at?: unknown;
}

function validateName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw validation('This field is required.', 'name', 'required');
  const trimmed = name.trim();
  if (trimmed.length > 200) throw validation('Ensure this field has no more than 200 characters.', 'name', 'max_length');
  return trimmed;
}

function validateDueAt(value: unknown): Date | null {
  if (value === undefined || value === null) return null;
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) throw validation('Datetime has wrong format. Use ISO 8601.', 'due_at', 'invalid');
  if (date.getTime() <= Date.now()) throw validation('The due date must be in the future.', 'due_at');
  return date;
}

async function validateProject(tx: Queryable, organizationId: string, value: unknown): Promise<number | null> {
  if (value === undefined || value === null) return null;
  const id = Number(value);
  const [row] =
    Number.isInteger(id) && id > 0 && id <= 2147483647
      ? await tx.query<{ id: number }>('SELECT id FROM projects WHERE id = $1 AND organization_id = $2', [id, organizationId])
      : [];
  if (!row) throw validation(`Invalid pk "${String(value).slice(0, 40)}" - object does not exist.`, 'project_id', 'does_not_exist');
  return row.id;
}

/** Reviewers: active people (not service accounts) of the organization; for a project review, with access to the project. */
async function validateReviewers(tx: Queryable, organizationId: string, projectId: number | null, value: unknown): Promise<number[]> {
  const eligible = new Map<string, number>();
  if (projectId === null) {
    const rows = await tx.query<{ id: number; uuid: string; level: number }>(
      `SELECT u.id, u.uuid::text AS uuid, m.level FROM organization_memberships m JOIN users u ON u.id = m.user_id
        WHERE m.organization_id = $1 AND u.is_active AND NOT u.is_service_account ORDER BY u.id`,
      [organizationId],
    );
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
      return rows.filter((r) => r.level >= OrganizationLevel.ADMIN).map((r) => r.id);
    }
    for (const r of rows) eligible.set(String(r.id), r.id).set(r.uuid, r.id);
  } else {
    const people = (await usersWithAccess(tx, projectId, { kind: 'project' })).filter((p) => !p.user.is_service_account);
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
      return people.filter((p) => p.project_access_level === 'admin').map((p) => p.user.id);
    }
    for (const p of people) eligible.set(String(p.user.id), p.user.id).set(p.user.uuid, p.user.id);
  }
  if (!Array.isArray(value) || value.length > 100) throw validation('Expected a list of at most 100 user ids or uuids.', 'reviewer_ids', 'not_a_list');
  const ids = new Set<number>();
  for (const entry of value) {
    const id = typeof entry === 'string' || typeof entry === 'number' ? eligible.get(String(entry)) : undefined;
    if (id === undefined) {
      const who = projectId === null ? 'an active person of the organization' : 'an active person with access to the project';
      throw validation(`Reviewer "${String(entry).slice(0, 40)}" is not ${who}.`, 'reviewer_ids', 'does_not_exist');
    }
    ids.add(id);
  }
  return [...ids];
}

export async function startReview(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  input: ReviewInput,
): Promise<{ review: ReviewRecord; counts: ReviewCounts }> {
  await lockAsAdmin(tx, organizationId, actor.userId);
  const name = validateName(input.name);
  const projectId = await validateProject(tx, organizationId, input.project_id);
  const dueAt = validateDueAt(input.due_at);
  const reviewerIds = await validateReviewers(tx, organizationId, projectId, input.reviewer_ids);
  if (reviewerIds.length === 0) throw validation('Nobody can review this scope: name the reviewers.', 'reviewer_ids', 'required');
  const [open] = await tx.query('SELECT 1 FROM access_reviews WHERE organization_id = $1 AND project_id IS NOT DISTINCT FROM $2 AND status = $3', [
    organizationId,
    projectId,
    'open',
  ]);
  if (open) throw conflict(REVIEW_OVERLAPS);
  let review: ReviewRecord;
  try {
    [review] = (await tx.query<ReviewRecord>(
      `INSERT INTO access_reviews (organization_id, project_id, name, reviewer_ids, due_at, created_by_id)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${REVIEW_COLUMNS}`,
      [organizationId, projectId, name, reviewerIds, dueAt, actor.userId],
    )) as [ReviewRecord];
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) throw conflict(REVIEW_OVERLAPS);
    throw err;
  }
  const items = await snapshot(tx, organizationId, projectId);
  let position = 0;
  for (const item of items) {
    await tx.query(
      `INSERT INTO access_review_items (review_id, position, kind, target_id, project_id, subject_user_id, subject_uuid, subject_email,
         subject_is_service_account, subject_level, access, detail, flags, revocable)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        review.id,
        ++position,
        item.kind,
        item.targetId,
        item.projectId,
        item.subject.id,
        item.subject.uuid,
        item.subject.email,
        item.subject.isServiceAccount,
        item.subject.level,
        item.access,
        JSON.stringify(item.detail),
        item.flags,
        item.revocable,
      ],
    );
  }
  const counts = await countItems(tx, review.id);
  await recordActivity(tx, {
    organizationId,
    teamId: projectId,
    actor,
    scope: 'Organization',
    activity: 'access_review_started',
    itemId: review.id,
    detail: {
      name,
      changes: [{ type: 'AccessReview', action: 'created' }],
      context: { review_id: review.id, project_id: projectId, reviewer_ids: reviewerIds, due_at: dueAt?.toISOString() ?? null, ...counts },
    },
  });
  return { review, counts };
}

export async function countItems(q: Queryable, reviewId: string): Promise<ReviewCounts> {
  const [row] = await q.query<ReviewCounts>(
    `SELECT count(*)::int AS items, count(*) FILTER (WHERE decision IS NULL)::int AS undecided,
            count(*) FILTER (WHERE decision = 'keep')::int AS keep, count(*) FILTER (WHERE decision = 'revoke')::int AS revoke,
            count(*) FILTER (WHERE cardinality(flags) > 0)::int AS flagged
       FROM access_review_items WHERE review_id = $1`,
    [reviewId],
  );
  return row!;
}

export async function findReview(q: Queryable, organizationId: string, reviewId: string, lock = false): Promise<ReviewRecord> {
  const [row] = isUuid(reviewId)
    ? await q.query<ReviewRecord>(`SELECT ${REVIEW_COLUMNS} FROM access_reviews WHERE id = $1 AND organization_id = $2${lock ? ' FOR UPDATE' : ''}`, [
        reviewId,
        organizationId,
      ])
    : [];
  if (!row) throw notFound();
  return row;
}

/** Admins see every review; other members only those they review. */
export async function listReviews(q: Queryable, organizationId: string, viewer: { userId: number; level: number }): Promise<ReviewRecord[]> {
  return q.query<ReviewRecord>(
    `SELECT ${REVIEW_COLUMNS} FROM access_reviews WHERE organization_id = $1 AND ($2::boolean OR $3 = ANY(reviewer_ids))
      ORDER BY created_at DESC, id`,
    [organizationId, viewer.level >= OrganizationLevel.ADMIN, viewer.userId],
  );
}

/** The review, for an admin of its organization or one of its reviewers. */
export async function reviewForViewer(
  q: Queryable,
  organizationId: string,
  reviewId: string,
  viewer: { userId: number; level: number },
): Promise<ReviewRecord> {
  const review = await findReview(q, organizationId, reviewId);
  if (viewer.level < OrganizationLevel.ADMIN && !review.reviewer_ids.includes(viewer.userId)) throw permissionDenied(NOT_A_REVIEWER);
  return review;
}

export async function listItems(q: Queryable, reviewId: string): Promise<ItemRecord[]> {
  return q.query<ItemRecord>(`SELECT ${ITEM_COLUMNS} FROM access_review_items WHERE review_id = $1 ORDER BY position`, [reviewId]);
}

export interface DecisionInput {
  decision?: unknown;
  note?: unknown;
}

/**
 * A reviewer (or an admin of the organization) keeps or revokes one item; deciding again replaces
 * the decision. A revocation must be within the decider's own level (the grant ceiling) and of an
 * item this review can take away; nothing is applied until the review closes.
 */
export async function decideItem(
  tx: Queryable,
  actor: Actor & { userId: number },
  organizationId: string,
  reviewId: string,
  itemId: string,
  input: DecisionInput,
): Promise<ItemRecord> {
  const membership = await requireMembership(tx, organizationId, actor.userId);
  const review = await findReview(tx, organizationId, reviewId, true);
  if (membership.level < OrganizationLevel.ADMIN && !review.reviewer_ids.includes(actor.userId)) throw permissionDenied(NOT_A_REVIEWER);
  const [item] = isUuid(itemId)
    ? await tx.query<ItemRecord>(`SELECT ${ITEM_COLUMNS} FROM access_review_items WHERE id = $1 AND review_id = $2 FOR UPDATE`, [itemId, review.id])
    : [];
  if (!item) throw notFound();
  if (review.status !== 'open') throw conflict(REVIEW_CLOSED);
  const { decision } = input;
  if (decision !== 'keep' && decision !== 'revoke') throw validation(`"${String(decision).slice(0, 40)}" is not a valid choice.`, 'decision', 'invalid_choice');
  if (input.note !== undefined && input.note !== null && typeof input.note !== 'string') throw validation('Not a valid string.', 'note', 'invalid');
  const note = typeof input.note === 'string' ? input.note.trim() : item.note;
  if (note.length > MAX_NOTE_LENGTH) throw validation(`Ensure this field has no more than ${MAX_NOTE_LENGTH} characters.`, 'note', 'max_length');
  if (decision === 'revoke') {
    if (!item.revocable) throw validation(NOT_REVOCABLE_HERE, 'decision');
    const breach = targetBreach(membership.level, item.subject_level);
    if (breach) throw permissionDenied(ceilingMessage(breach));
  }
  const [decider] = await tx.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [actor.userId]);
  const [updated] = await tx.query<ItemRecord>(
    `UPDATE access_review_items SET decision = $2, note = $3, decided_by_id = $4, decided_by_email = $5, decided_at = now()
      WHERE id = $1 RETURNING ${ITEM_COLUMNS}`,
    [item.id, decision, note, actor.userId, decider?.email ?? null],
  );
  await recordActivity(tx, {
    organizationId,
    teamId: review.project_id,
    actor,
    scope: 'Organization',
    activity: 'access_review_item_decided',
    itemId: item.id,
    detail: {
      name: `${item.subject_email}: ${item.access}`,
      changes: [{ type: 'AccessReviewItem', action: 'changed', field: 'decision', before: item.decision, after: decision }],
      context: { review_id: review.id, review_name: review.name, kind: item.kind, target_id: item.target_id, subject_uuid: item.subject_uuid, note },
    },
  });
  return updated!;
}

export const requireAdminLevel = (level: number): void => {
  if (level < OrganizationLevel.ADMIN) throw permissionDenied(INSUFFICIENT_ORG_LEVEL);
};
