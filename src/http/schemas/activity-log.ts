import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Query } from './common.js';

/** The filters (read and checked by the route, whose messages name the parameter). */
const FILTERS = ['scope', 'scopes', 'user', 'item_id', 'after', 'before', 'limit', 'page', 'cursor'] as const;
export const ProjectActivityQuery = Query([...FILTERS, 'include_organization_scoped']);
export const OrganizationActivityQuery = Query([...FILTERS, 'project']);
export const ActivityExportQuery = Query([...FILTERS, 'project', 'format']);

/** PostHog's ActivityLogSerializer. `user` is null for system entries and deleted users. */
export const ActivityEntry = Type.Object({
  id: Type.String(),
  user: Nullable(
    Type.Object({
      id: Type.Integer(),
      uuid: Type.String(),
      distinct_id: Type.String(),
      first_name: Type.String(),
      last_name: Type.String(),
      email: Type.String(),
    }),
  ),
  unread: Type.Boolean(),
  organization_id: Nullable(Type.String()),
  was_impersonated: Type.Boolean(),
  is_system: Type.Boolean(),
  activity: Type.String(),
  item_id: Nullable(Type.String()),
  scope: Type.String(),
  /** What changed (PostHog's detail: changes, name, context …). */
  detail: Type.Optional(Type.Unknown()),
  created_at: Type.String({ format: 'date-time' }),
});
export type ActivityEntry = Static<typeof ActivityEntry>;

/** Cursor pages by default (no count); numbered pages (`?page=N`) carry the count. */
export const ActivityPage = Type.Object({
  count: Type.Optional(Type.Integer()),
  next: Nullable(Type.String()),
  previous: Nullable(Type.String()),
  results: Type.Array(ActivityEntry),
});
export type ActivityPage = Static<typeof ActivityPage>;

/** Text the route streams (never serialized by the schema). */
const Streamed = Type.Unsafe<unknown>(Type.String());

/** The export: NDJSON (one entry, plus `team_id`, per line) or CSV, streamed. */
export const ActivityExport = {
  description: 'NDJSON (an entry plus its team_id per line) or CSV, by `format`.',
  content: { 'application/x-ndjson': { schema: Streamed }, 'text/csv': { schema: Streamed } },
};

export const ChainProblem = Type.Object({
  kind: Type.Union([Type.Literal('modified'), Type.Literal('missing'), Type.Literal('reordered'), Type.Literal('checkpoint')]),
  chain_seq: Type.Integer(),
  id: Nullable(Type.String()),
  count: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
});

/** The hash chain's verification: `ok` with no problems, or where it breaks. */
export const ChainReport = Type.Object({
  organization_id: Type.String(),
  ok: Type.Boolean(),
  entries: Type.Integer(),
  problems: Type.Array(ChainProblem),
  pruned: Type.Optional(Type.Object({ up_to_chain_seq: Type.Integer(), hash_at: Type.String(), checkpoint_created_at: Type.String() })),
});
export type ChainReport = Static<typeof ChainReport>;
