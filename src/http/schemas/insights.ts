import { Type, type Static } from '@sinclair/typebox';
import { DateTime, DbId, JsonObject, Nullable, Paginated, Query, UserBasic } from './common.js';

export const InsightParams = Type.Object({ project_id: Type.String(), insight_id: Type.String() });
export type InsightParams = Static<typeof InsightParams>;
export const InsightListQuery = Query(['short_id', 'search', 'limit', 'offset']);
const Text = (maxLength: number) => Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()]));

export const InsightBody = Type.Object(
  {
    name: Text(400),
    derived_name: Text(400),
    description: Text(400),
    query: Type.Optional(Type.Union([JsonObject, Type.Null()])),
    filters: Type.Optional(Type.Union([JsonObject, Type.Null()])),
    dashboards: Type.Optional(Type.Array(DbId, { maxItems: 100 })),
    deleted: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type InsightBody = Static<typeof InsightBody>;

/** PostHog's InsightSerializer, the fields Warden has (no results: Warden computes none). */
export const Insight = Type.Object({
  id: Type.Integer(),
  short_id: Type.String(),
  name: Nullable(Type.String()),
  derived_name: Type.Null(),
  query: Nullable(JsonObject),
  filters: JsonObject,
  order: Type.Null(),
  deleted: Type.Boolean(),
  dashboards: Type.Array(Type.Integer()),
  dashboard_tiles: Type.Array(Type.Object({ id: Type.Integer(), dashboard_id: Type.Integer(), deleted: Type.Boolean() })),
  last_refresh: Type.Null(),
  cache_target_age: Type.Null(),
  next_allowed_client_refresh: Type.Null(),
  result: Type.Null(),
  hasMore: Type.Null(),
  columns: Type.Null(),
  created_at: DateTime,
  created_by: Nullable(UserBasic),
  description: Type.String(),
  updated_at: DateTime,
  tags: Type.Array(Type.String()),
  favorited: Type.Boolean(),
  last_modified_at: DateTime,
  last_modified_by: Type.Null(),
  is_sample: Type.Boolean(),
  timezone: Type.Null(),
  is_cached: Type.Boolean(),
  query_status: Type.Null(),
  hogql: Type.Null(),
  types: Type.Null(),
});
export type Insight = Static<typeof Insight>;
export const InsightList = Paginated(Insight);
export type InsightList = Static<typeof InsightList>;
