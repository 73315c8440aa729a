import type { ItemRecord, ReviewCounts, ReviewRecord } from '../../domain/access-reviews/access-reviews.js';
import type { Queryable } from '../../store/database.js';
import type { Item, Review } from '../schemas/access-reviews.js';
import { csvField } from './activity-log.js';

interface Person {
  id: number;
  uuid: string;
  email: string;
  first_name: string;
  last_name: string;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** The people a review names (reviewers, who started and who closed it), by id. */
export async function peopleOf(q: Queryable, reviews: readonly ReviewRecord[]): Promise<Map<number, Person>> {
  const ids = [...new Set(reviews.flatMap((r) => [...r.reviewer_ids, r.created_by_id, r.closed_by_id]).filter((id): id is number => id !== null))];
  if (ids.length === 0) return new Map();
  const rows = await q.query<Person & { first_name: string | null; last_name: string | null }>(
    'SELECT id, uuid::text AS uuid, email, first_name, last_name FROM users WHERE id = ANY($1::integer[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { ...r, first_name: r.first_name ?? '', last_name: r.last_name ?? '' }]));
}

export function reviewView(review: ReviewRecord, counts: ReviewCounts, people: Map<number, Person>, viewer: { userId: number; level: number }): Review {
  const person = (id: number | null) => (id === null ? null : (people.get(id) ?? null));
  return {
    id: review.id,
    organization_id: review.organization_id,
    project_id: review.project_id,
    name: review.name,
    status: review.status,
    reviewers: review.reviewer_ids.map((id) => people.get(id)).filter((p): p is Person => p !== undefined),
    due_at: iso(review.due_at),
    created_by: person(review.created_by_id),
    created_at: iso(review.created_at)!,
    closed_at: iso(review.closed_at),
    closed_by: person(review.closed_by_id),
    chain_head:
      review.chain_head_seq === null || review.chain_head_hash === null ? null : { chain_seq: Number(review.chain_head_seq), hash: review.chain_head_hash },
    counts,
    can_decide: review.status === 'open' && (viewer.level >= 8 || review.reviewer_ids.includes(viewer.userId)),
  };
}

export function itemView(item: ItemRecord): Item {
  return {
    id: item.id,
    position: item.position,
    kind: item.kind,
    target_id: item.target_id,
    project_id: item.project_id,
    subject: {
      id: item.subject_user_id,
      uuid: item.subject_uuid,
      email: item.subject_email,
      is_service_account: item.subject_is_service_account,
      level: item.subject_level,
    },
    access: item.access,
    detail: item.detail,
    flags: item.flags,
    revocable: item.revocable,
    decision: item.decision,
    note: item.note,
    decided_by: item.decided_by_email === null ? null : { id: item.decided_by_id, email: item.decided_by_email },
    decided_at: iso(item.decided_at),
    outcome: item.outcome,
  };
}

const CSV_COLUMNS = [
  'review_id',
  'review_name',
  'organization_id',
  'review_project_id',
  'review_status',
  'closed_at',
  'chain_head_seq',
  'chain_head_hash',
  'item_id',
  'position',
  'kind',
  'target_id',
  'project_id',
  'subject_uuid',
  'subject_email',
  'subject_is_service_account',
  'subject_level',
  'access',
  'flags',
  'decision',
  'note',
  'decided_by_email',
  'decided_at',
  'outcome',
  'detail',
] as const;

/** The evidence as CSV: one line per item, the review's facts (and chain head) repeated on each; formula-safe (csvField). */
export function evidenceCsv(review: Review, items: readonly Item[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const item of items) {
    const values: Record<(typeof CSV_COLUMNS)[number], string | number | boolean | null> = {
      review_id: review.id,
      review_name: review.name,
      organization_id: review.organization_id,
      review_project_id: review.project_id,
      review_status: review.status,
      closed_at: review.closed_at ? iso(review.closed_at) : null,
      chain_head_seq: review.chain_head?.chain_seq ?? null,
      chain_head_hash: review.chain_head?.hash ?? null,
      item_id: item.id,
      position: item.position,
      kind: item.kind,
      target_id: item.target_id,
      project_id: item.project_id,
      subject_uuid: item.subject.uuid,
      subject_email: item.subject.email,
      subject_is_service_account: item.subject.is_service_account,
      subject_level: item.subject.level,
      access: item.access,
      flags: item.flags.join(' '),
      decision: item.decision,
      note: item.note,
      decided_by_email: item.decided_by?.email ?? null,
      decided_at: item.decided_at ? iso(item.decided_at) : null,
      outcome: item.outcome,
      detail: JSON.stringify(item.detail),
    };
    lines.push(CSV_COLUMNS.map((c) => csvField(values[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
