import { Type, type Static } from '@sinclair/typebox';
import { DateTime, DbId, JsonObject, Nullable, Paginated, Query, UserBasic } from './common.js';
import { Insight } from './insights.js';

export const DashboardParams = Type.Object({ project_id: Type.String(), dashboard_id: Type.String() });
export type DashboardParams = Static<typeof DashboardParams>;
export const DashboardListQuery = Query(['search', 'pinned', 'limit', 'offset']);

/** A tile as PostHog shapes it: `{insight: {id}}` adds one, `{id, layouts?, color?, deleted?}` changes one. */
export const TileBody = Type.Object(
  {
    id: Type.Optional(DbId),
    insight: Type.Optional(
      Type.Union([
        Type.Object({ id: Type.Optional(DbId), short_id: Type.Optional(Type.String({ maxLength: 12 })) }, { additionalProperties: true }),
        Type.Null(),
      ]),
    ),
    layouts: Type.Optional(JsonObject),
    color: Type.Optional(Type.Union([Type.String({ maxLength: 400 }), Type.Null()])),
    deleted: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

export const DashboardBody = Type.Object(
  {
    name: Type.Optional(Type.Union([Type.String({ maxLength: 400 }), Type.Null()])),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
    pinned: Type.Optional(Type.Boolean()),
    deleted: Type.Optional(Type.Boolean()),
    tiles: Type.Optional(Type.Array(TileBody, { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type DashboardBody = Static<typeof DashboardBody>;

const basicFields = {
  id: Type.Integer(),
  name: Nullable(Type.String()),
  description: Type.String(),
  pinned: Type.Boolean(),
  created_at: DateTime,
  created_by: Nullable(UserBasic),
  last_accessed_at: Type.Null(),
  is_shared: Type.Boolean(),
  deleted: Type.Boolean(),
  creation_mode: Type.String(),
  tags: Type.Array(Type.String()),
  restriction_level: Type.Integer(),
  effective_restriction_level: Type.Integer(),
  effective_privilege_level: Type.Integer(),
  team_id: Type.Integer(),
};

/** A dashboard as lists show it (PostHog's DashboardBasicSerializer: no tiles). */
export const DashboardBasic = Type.Object(basicFields);
export type DashboardBasic = Static<typeof DashboardBasic>;
export const DashboardList = Paginated(DashboardBasic);
export type DashboardList = Static<typeof DashboardList>;

export const DashboardTile = Type.Object({
  id: Type.Integer(),
  layouts: JsonObject,
  color: Nullable(Type.String()),
  insight: Insight,
  text: Type.Null(),
  deleted: Type.Boolean(),
  is_cached: Type.Boolean(),
});

/** A dashboard with the tiles whose insights the caller may view. */
export const Dashboard = Type.Object({ ...basicFields, filters: JsonObject, variables: JsonObject, tiles: Type.Array(DashboardTile) });
export type Dashboard = Static<typeof Dashboard>;
