/**
 * Schema pieces shared by the route schemas (src/http/schemas/*.ts). Response schemas serialize the
 * answer (fast-json-stringify): a property they do not name is dropped, a required one that is
 * missing is a 500, so each names exactly what the serializer sends. Imports TypeBox only, so the
 * console can derive its API types from these files.
 */
import { Type, type Static, type TOptional, type TSchema, type TUnknown } from '@sinclair/typebox';

/** A database id in a URL, as the routes take it (the domain parses and checks it). */
export const ProjectParams = Type.Object({ project_id: Type.String() });
export type ProjectParams = Static<typeof ProjectParams>;
export const OrgParams = Type.Object({ organization_id: Type.String() });
export type OrgParams = Static<typeof OrgParams>;

/** A serial id as bodies take it. */
export const DbId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

/** A value that may be null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** An instant: a Date (or ISO text) on the server, ISO 8601 text on the wire (see Wire). */
export const DateTime = Type.Unsafe<Date | string>(Type.String({ format: 'date-time' }));

/** A response type as a client reads it: instants are ISO text once serialized. */
export type Wire<T> = T extends Date ? string : T extends ReadonlyArray<infer I> ? Wire<I>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

/** Free-form JSON (flag filters, insight queries, payloads, activity details): written as it is. */
export const AnyJson = Type.Unknown();
/** A JSON object whose keys are not fixed: written as it is. */
export const JsonObject = Type.Object({}, { additionalProperties: true });

/** Query strings that the routes read and check themselves (their messages name the parameter). */
export const Query = <K extends string>(names: readonly K[]) =>
  Type.Object(Object.fromEntries(names.map((n) => [n, Type.Optional(Type.Unknown())])) as { [P in K]: TOptional<TUnknown> });
/** `?limit=&offset=` of the limit/offset lists (src/http/pagination.ts). */
export const PAGE_QUERY = ['limit', 'offset'] as const;

/** PostHog's error shape, which every error status answers with. */
export const ErrorBody = Type.Object({
  type: Type.String(),
  code: Type.String(),
  detail: Type.String(),
  attr: Nullable(Type.String()),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** PostHog's LimitOffsetPagination envelope. */
export const Paginated = <T extends TSchema>(item: T) =>
  Type.Object({
    count: Type.Integer(),
    next: Nullable(Type.String()),
    previous: Nullable(Type.String()),
    results: Type.Array(item),
  });

/** A cursor-paginated list (no count). */
export const CursorPage = <T extends TSchema>(item: T) =>
  Type.Object({ next: Nullable(Type.String()), previous: Type.Optional(Nullable(Type.String())), results: Type.Array(item) });

/** 204 No Content: no body. */
export const NoContent = Type.Unsafe<void>({ type: 'null', description: 'No content.' });

/** PostHog's UserBasicSerializer (src/http/serializers.ts userBasic). */
export const UserBasic = Type.Object({
  id: Type.Integer(),
  uuid: Type.String(),
  distinct_id: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  email: Type.String(),
  is_email_verified: Type.Boolean(),
  hedgehog_config: Type.Null(),
  role_at_organization: Type.Null(),
  is_service_account: Type.Boolean(),
});
export type UserBasic = Static<typeof UserBasic>;

/** An organization membership (PostHog's OrganizationMemberSerializer). */
export const OrganizationMember = Type.Object({
  id: Type.String(),
  user: UserBasic,
  level: Type.Integer(),
  is_service_account: Type.Boolean(),
  joined_at: DateTime,
  updated_at: DateTime,
  is_2fa_enabled: Type.Boolean(),
  has_social_auth: Type.Boolean(),
  last_login: Nullable(DateTime),
});
export type OrganizationMember = Static<typeof OrganizationMember>;

/** PostHog's TeamBasicSerializer (an organization's `teams`, a user's `team`). */
export const ProjectBasic = Type.Object({
  id: Type.Integer(),
  uuid: Type.String(),
  organization: Type.String(),
  name: Type.String(),
  api_token: Type.String(),
  access_control: Type.Boolean(),
  effective_membership_level: Nullable(Type.Integer()),
});
export type ProjectBasic = Static<typeof ProjectBasic>;

/** `{success: true}`, the answer of PostHog's actions. */
export const Success = Type.Object({ success: Type.Boolean() });
