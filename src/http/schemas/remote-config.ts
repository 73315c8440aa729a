/** PostHog's remote config (`/array/<token>/config`), camelCase keys as posthog-js reads them. */
import { Type, type Static } from '@sinclair/typebox';

export const RemoteConfigParams = Type.Object({ token: Type.String() });
export type RemoteConfigParams = Static<typeof RemoteConfigParams>;

export const RemoteConfig = Type.Object({
  token: Type.String(),
  supportedCompression: Type.Array(Type.String()),
  hasFeatureFlags: Type.Boolean(),
  captureDeadClicks: Type.Boolean(),
  capturePerformance: Type.Boolean(),
  autocapture_opt_out: Type.Boolean(),
  autocaptureExceptions: Type.Boolean(),
  analytics: Type.Object({ endpoint: Type.String() }),
  elementsChainAsString: Type.Boolean(),
  sessionRecording: Type.Boolean(),
  heatmaps: Type.Boolean(),
  surveys: Type.Boolean(),
  defaultIdentifiedOnly: Type.Boolean(),
  siteApps: Type.Array(Type.Unknown()),
});
export type RemoteConfig = Static<typeof RemoteConfig>;
