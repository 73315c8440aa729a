/** The terms of a time-bound grant on the wire (src/domain/access-control/grant-terms.ts; docs/time-bound-access.md). */
import { Type } from '@sinclair/typebox';
import { DateTime, Nullable } from './common.js';

/** Request fields: when the grant ends by itself (ISO 8601, in the future; null = lasting) and why it is given. */
export const GrantTermsInput = {
  expires_at: Type.Optional(Nullable(Type.String({ maxLength: 64, description: 'When the grant ends by itself (ISO 8601, in the future); null = lasting.' }))),
  reason: Type.Optional(Nullable(Type.String({ maxLength: 1000, description: 'Why the grant is given.' }))),
};

/** Response fields of a grant: its expiry (null = lasting) and reason. */
export const GrantTermsOutput = {
  expires_at: Nullable(DateTime),
  reason: Nullable(Type.String()),
};
