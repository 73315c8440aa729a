import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable } from './common.js';

/** A key's network and rate bounds (docs/key-networks.md); personal and service-account keys take them alike. */
export const KeyNetworkFields = {
  allowed_ips: Type.Optional(
    Type.Union([Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 }), Type.Null()], {
      description: 'Address ranges (CIDR, IPv4 or IPv6; a bare address is one host) the key may be used from; null or [] = anywhere.',
    }),
  ),
  rate_limit_per_minute: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], { description: 'Requests per minute the key may make; null = no limit.' }),
  ),
};

export const KeyParams = Type.Object({ key_id: Type.String({ maxLength: 64 }) });
export type KeyParams = Static<typeof KeyParams>;
export const KeyFields = {
  label: Type.Optional(Type.String()),
  scopes: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 300 })),
  scoped_teams: Type.Optional(Type.Union([Type.Array(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), { maxItems: 1000 }), Type.Null()])),
  scoped_organizations: Type.Optional(Type.Union([Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1000 }), Type.Null()])),
  expires_at: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  ...KeyNetworkFields,
};
export const KeyBody = Type.Object(KeyFields, { additionalProperties: false });
export type KeyBody = Static<typeof KeyBody>;

/** PostHog's PersonalAPIKeySerializer; `value` only when the key was just made or rolled. */
export const ApiKey = Type.Object({
  id: Type.String(),
  label: Type.String(),
  value: Nullable(Type.String()),
  mask_value: Type.String(),
  created_at: DateTime,
  last_used_at: Nullable(DateTime),
  last_rolled_at: Nullable(DateTime),
  expires_at: Nullable(DateTime),
  user_id: Type.Integer(),
  scopes: Type.Array(Type.String()),
  scoped_teams: Type.Array(Type.Integer()),
  scoped_organizations: Type.Array(Type.String()),
  allowed_ips: Nullable(Type.Array(Type.String())),
  rate_limit_per_minute: Nullable(Type.Integer()),
});
export type ApiKey = Static<typeof ApiKey>;
export const ApiKeyList = Type.Array(ApiKey);
