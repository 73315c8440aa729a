/** PostHog's `GET /api/preflight/`: what a signed-out page needs to know about the instance. */
import { Type, type Static } from '@sinclair/typebox';

export const Preflight = Type.Object({
  initiated: Type.Boolean(),
  cloud: Type.Boolean(),
  demo: Type.Boolean(),
  realm: Type.String(),
  site_url: Type.String(),
  signup_enabled: Type.Boolean(),
  email_service_available: Type.Boolean(),
});
export type Preflight = Static<typeof Preflight>;
