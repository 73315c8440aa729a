/** Request and response shapes of a person's sessions and the end-sessions actions. */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated } from './common.js';

export const SessionParams = Type.Object({ user_id: Type.String(), session_id: Type.String({ maxLength: 100 }) });
export type SessionParams = Static<typeof SessionParams>;
export const MemberSessionsParams = Type.Object({ organization_id: Type.String(), user_uuid: Type.String() });
export type MemberSessionsParams = Static<typeof MemberSessionsParams>;

export const Session = Type.Object({
  id: Type.String(),
  created_at: DateTime,
  last_seen_at: DateTime,
  expires_at: DateTime,
  ip_address: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  auth_method: Type.String(),
  second_factor: Nullable(Type.String()),
  is_current: Type.Boolean(),
});
export type Session = Static<typeof Session>;

/** One page with every live session (next and previous are null). */
export const SessionList = Paginated(Session);
export type SessionList = Static<typeof SessionList>;

export const SessionsEnded = Type.Object({ sessions_ended: Type.Integer() });
export type SessionsEnded = Static<typeof SessionsEnded>;
