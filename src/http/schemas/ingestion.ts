import { Type, type Static } from '@sinclair/typebox';

/** What PostHog's capture answers once the events are stored. */
export const CaptureAccepted = Type.Object({ status: Type.Literal(1) });
export type CaptureAccepted = Static<typeof CaptureAccepted>;
