import { Type } from '@sinclair/typebox';

/** The organization's key inventory (src/http/routes/key-inventory.ts). */
export const InventoryParams = Type.Object({ organization_id: Type.String() });
export const InventoryKeyParams = Type.Object({ organization_id: Type.String(), key_id: Type.String({ maxLength: 64 }) });

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const InventoryKey = Type.Object({
  id: Type.String(),
  label: Type.String(),
  mask_value: Type.String({ description: 'The first and last 4 characters; the value itself is never stored.' }),
  scopes: Type.Array(Type.String()),
  scoped_teams: Type.Array(Type.Integer(), { description: 'Projects the key is confined to; empty = not confined.' }),
  scoped_organizations: Type.Array(Type.String(), { description: 'Organizations the key is confined to; empty = not confined.' }),
  created_at: Timestamp,
  last_used_at: NullableTimestamp,
  last_rolled_at: NullableTimestamp,
  expires_at: NullableTimestamp,
  allowed_ips: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'Address ranges (CIDR) the key may be used from; null = anywhere (docs/key-networks.md).',
  }),
  rate_limit_per_minute: Type.Union([Type.Integer(), Type.Null()], { description: 'Requests per minute the key may make; null = no limit.' }),
  owner: Type.Object({
    id: Type.Integer(),
    uuid: Type.String(),
    email: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    is_service_account: Type.Boolean(),
    level: Type.Integer({ description: "The owner's level in this organization (1 member, 8 admin, 15 owner)." }),
  }),
  can_revoke: Type.Boolean({ description: "False when the owner's level is above the caller's (the grant ceiling)." }),
});

export const InventoryList = Type.Object({ count: Type.Integer(), results: Type.Array(InventoryKey) });
