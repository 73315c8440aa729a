/** Request and response shapes of an organization's service accounts and their keys. */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated } from './common.js';
import { ApiKey, KeyNetworkFields } from './api-keys.js';

export const AccountParams = Type.Object({ organization_id: Type.String(), account_id: Type.String() });
export type AccountParams = Static<typeof AccountParams>;
export const AccountKeyParams = Type.Object({ organization_id: Type.String(), account_id: Type.String(), key_id: Type.String({ maxLength: 64 }) });
export type AccountKeyParams = Static<typeof AccountKeyParams>;

export const AccountCreate = Type.Object({ name: Type.String(), level: Type.Optional(Type.Integer()) }, { additionalProperties: false });
export type AccountCreate = Static<typeof AccountCreate>;

/** A personal API key's fields (as /api/personal_api_keys/ takes them), less scoped_organizations: the account's own. */
export const AccountKeyCreate = Type.Object(
  {
    label: Type.Optional(Type.String()),
    scopes: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 300 })),
    scoped_teams: Type.Optional(Type.Union([Type.Array(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), { maxItems: 1000 }), Type.Null()])),
    expires_at: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    ...KeyNetworkFields,
  },
  { additionalProperties: false },
);
export type AccountKeyCreate = Static<typeof AccountKeyCreate>;
/** A change to a service account's key: the same fields, each optional. */
export const AccountKeyPatch = AccountKeyCreate;

export const ServiceAccount = Type.Object({
  id: Type.String(),
  uuid: Type.String(),
  name: Type.String(),
  level: Type.Integer(),
  is_service_account: Type.Boolean(),
  created_by_id: Nullable(Type.Integer()),
  created_at: DateTime,
});
export type ServiceAccount = Static<typeof ServiceAccount>;

export const ServiceAccountList = Paginated(ServiceAccount);
export type ServiceAccountList = Static<typeof ServiceAccountList>;

export const AccountKey = ApiKey;
export const AccountKeyList = Type.Array(ApiKey);
export type AccountKeyList = Static<typeof AccountKeyList>;
