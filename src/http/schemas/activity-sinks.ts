import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated } from './common.js';

export const SinkParams = Type.Object({ organization_id: Type.String(), sink_id: Type.String() });
export type SinkParams = Static<typeof SinkParams>;
export const SinkCreate = Type.Object(
  { url: Type.String(), description: Type.Optional(Type.String()), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type SinkCreate = Static<typeof SinkCreate>;
export const SinkPatch = Type.Object(
  { url: Type.Optional(Type.String()), description: Type.Optional(Type.String()), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type SinkPatch = Static<typeof SinkPatch>;

/** A sink and its delivery state; `secret` only in the answer that created it. */
export const Sink = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  enabled: Type.Boolean(),
  created_at: DateTime,
  updated_at: DateTime,
  created_by_id: Nullable(Type.Integer()),
  secret: Type.Optional(Type.String()),
  last_delivered_seq: Type.Integer(),
  pending: Type.Integer(),
  last_success_at: Nullable(DateTime),
  last_attempt_at: Nullable(DateTime),
  last_error: Nullable(Type.String()),
  consecutive_failures: Type.Integer(),
  next_retry_at: Nullable(DateTime),
});
export type Sink = Static<typeof Sink>;
export const SinkList = Paginated(Sink);
export type SinkList = Static<typeof SinkList>;
