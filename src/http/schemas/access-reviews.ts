import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable } from './common.js';

/** Access reviews (src/http/routes/access-reviews.ts, docs/access-reviews.md). */
export const ReviewParams = Type.Object({ organization_id: Type.String(), review_id: Type.String({ maxLength: 64 }) });
export const ItemParams = Type.Object({ organization_id: Type.String(), review_id: Type.String({ maxLength: 64 }), item_id: Type.String({ maxLength: 64 }) });

const Person = Type.Object({ id: Type.Integer(), uuid: Type.String(), email: Type.String(), first_name: Type.String(), last_name: Type.String() });

export const ReviewInput = Type.Object(
  {
    name: Type.String({ maxLength: 1000 }),
    project_id: Type.Optional(Nullable(Type.Integer())),
    reviewer_ids: Type.Optional(
      Type.Array(Type.Union([Type.Integer(), Type.String({ maxLength: 64 })]), {
        description: "User ids or uuids. Default: the project's admins (a project review) or the organization's admins and owners.",
      }),
    ),
    due_at: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  },
  { additionalProperties: false },
);

export const DecisionInput = Type.Object(
  {
    decision: Type.String({ maxLength: 16, description: '`keep` or `revoke`' }),
    note: Type.Optional(Nullable(Type.String({ maxLength: 10000 }))),
  },
  { additionalProperties: false },
);

export const CloseInput = Type.Union([
  Type.Object({ force: Type.Optional(Type.Boolean({ description: 'Close with undecided items (they are kept).' })) }, { additionalProperties: false }),
  Type.Null(),
]);

const Counts = Type.Object({ items: Type.Integer(), undecided: Type.Integer(), keep: Type.Integer(), revoke: Type.Integer(), flagged: Type.Integer() });

export const ChainHead = Type.Object(
  { chain_seq: Type.Integer(), hash: Type.String() },
  { description: "The organization's activity-log chain head at closing (`warden audit verify` checks the chain)." },
);

export const Review = Type.Object({
  id: Type.String(),
  organization_id: Type.String(),
  project_id: Nullable(Type.Integer()),
  name: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  reviewers: Type.Array(Person),
  due_at: Nullable(DateTime),
  created_by: Nullable(Person),
  created_at: DateTime,
  closed_at: Nullable(DateTime),
  closed_by: Nullable(Person),
  chain_head: Nullable(ChainHead),
  counts: Counts,
  can_decide: Type.Boolean({ description: 'Whether the caller may decide items (an assigned reviewer or an admin).' }),
});
export type Review = Static<typeof Review>;

export const ReviewList = Type.Object({ count: Type.Integer(), results: Type.Array(Review) });

export const Item = Type.Object({
  id: Type.String(),
  position: Type.Integer(),
  kind: Type.String({ description: 'organization_membership, project_membership, role_membership, access_control, personal_api_key or service_account' }),
  target_id: Type.String(),
  project_id: Nullable(Type.Integer()),
  subject: Type.Object({ id: Nullable(Type.Integer()), uuid: Type.String(), email: Type.String(), is_service_account: Type.Boolean(), level: Type.Integer() }),
  access: Type.String(),
  detail: Type.Object({}, { additionalProperties: true }),
  flags: Type.Array(Type.String(), { description: '`left` (deactivated or deprovisioned), `unused_key` (no use for 90 days)' }),
  revocable: Type.Boolean(),
  decision: Nullable(Type.Union([Type.Literal('keep'), Type.Literal('revoke')])),
  note: Type.String(),
  decided_by: Nullable(Type.Object({ id: Nullable(Type.Integer()), email: Type.String() })),
  decided_at: Nullable(DateTime),
  outcome: Nullable(Type.Union([Type.Literal('kept'), Type.Literal('revoked'), Type.Literal('already_gone')])),
});
export type Item = Static<typeof Item>;

export const ItemList = Type.Object({ count: Type.Integer(), results: Type.Array(Item) });

export const CloseResult = Type.Object({ review: Review, revoked: Type.Integer(), already_gone: Type.Integer() });

export const ExportQuery = Type.Object({ format: Type.Optional(Type.String({ maxLength: 16 })) });

/** The evidence: JSON (the review and every item) or CSV (one line per item), by `format`. */
export const ReviewExport = {
  description: 'Evidence: JSON (`{review, items, exported_at}`) or CSV (one line per item), by `format`.',
  content: { 'application/json': { schema: Type.Unsafe<unknown>(Type.String()) }, 'text/csv': { schema: Type.Unsafe<unknown>(Type.String()) } },
};
