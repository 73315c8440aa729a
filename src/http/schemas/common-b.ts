/**
 * Shapes shared by the second half of the route files (typed-b's; the lead merges them with
 * common.ts). Response schemas name every field Warden sends: fast-json-stringify drops the others.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * A timestamp on the wire: an ISO 8601 string. The server hands the serializer a Date (a plain
 * SELECT) or the driver's string (row_to_json); both are written as they were by JSON.stringify.
 */
export const Timestamp = Type.Unsafe<Date | string>(Type.String({ format: 'date-time' }));

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Any JSON object (free-form: written as JSON.stringify writes it). */
export const FreeObject = Type.Object({}, { additionalProperties: true });

/** PostHog's LimitOffsetPagination envelope. */
export const Paginated = <T extends TSchema>(item: T) =>
  Type.Object({ count: Type.Integer(), next: Nullable(Type.String()), previous: Nullable(Type.String()), results: Type.Array(item) });

/** `{success: true}`, the answer of PostHog's actions. */
export const Success = Type.Object({ success: Type.Boolean() });

/** PostHog's UserBasicSerializer. */
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
  joined_at: Timestamp,
  updated_at: Timestamp,
  is_2fa_enabled: Type.Boolean(),
  has_social_auth: Type.Boolean(),
  last_login: Nullable(Timestamp),
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

/** A personal API key as Warden shows it (`value` only when it was just made or rolled). */
export const ApiKey = Type.Object({
  id: Type.String(),
  label: Type.String(),
  value: Nullable(Type.String()),
  mask_value: Type.String(),
  created_at: Timestamp,
  last_used_at: Nullable(Timestamp),
  last_rolled_at: Nullable(Timestamp),
  expires_at: Nullable(Timestamp),
  user_id: Type.Integer(),
  scopes: Type.Array(Type.String()),
  scoped_teams: Type.Array(Type.Integer()),
  scoped_organizations: Type.Array(Type.String()),
});
export type ApiKey = Static<typeof ApiKey>;

/** A 204: no body (`reply.code(204).send()`). */
export const NoContent = Type.Unsafe<void>(Type.Null({ description: 'No content' }));

/**
 * A response as a client reads it (JSON.parse): the server's Dates arrive as strings. The console
 * derives its API types with it, e.g. `Wire<Organization>`.
 */
export type Wire<T> = T extends Date ? string : T extends ReadonlyArray<infer U> ? Array<Wire<U>> : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;
