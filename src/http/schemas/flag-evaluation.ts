import { Type, type Static } from '@sinclair/typebox';
import { JsonObject, Nullable } from './common.js';
import { FlagFilters } from './feature-flags.js';

export const FlagEvaluationQuery = Type.Object({
  v: Type.Optional(Type.Unknown()),
  config: Type.Optional(Type.Unknown()),
  token: Type.Optional(Type.Unknown()),
});

/** A flag as SDKs evaluating locally read it (PostHog's MinimalFeatureFlagSerializer). */
export const LocalEvaluationFlag = Type.Object({
  id: Type.Integer(),
  team_id: Type.Integer(),
  name: Type.String(),
  key: Type.String(),
  filters: FlagFilters,
  deleted: Type.Boolean(),
  active: Type.Boolean(),
  ensure_experience_continuity: Type.Boolean(),
  has_encrypted_payloads: Type.Boolean(),
  version: Type.Null(),
  evaluation_runtime: Type.String(),
});
export type LocalEvaluationFlag = Static<typeof LocalEvaluationFlag>;

/** The flag definitions for local evaluation (`/api/feature_flag/local_evaluation/`, `/flags/definitions`). */
export const FlagDefinitions = Type.Object({ flags: Type.Array(LocalEvaluationFlag), group_type_mapping: JsonObject, cohorts: JsonObject });
export type FlagDefinitions = Static<typeof FlagDefinitions>;

/** One entry of `/flags?v=2`'s `flags` map (the flags service's FlagDetails). */
export const FlagDetails = Type.Object({
  key: Type.String(),
  enabled: Type.Boolean(),
  variant: Nullable(Type.String()),
  reason: Type.Object({ code: Type.String(), condition_index: Nullable(Type.Integer()), description: Type.String() }),
  metadata: Type.Object({ id: Type.Integer(), version: Type.Integer(), description: Type.Null(), payload: Nullable(Type.String()) }),
});
export type FlagDetails = Static<typeof FlagDetails>;

/** The remote-config part of a /decide answer (and /flags with `?config=true`): Warden serves flags only. */
const configFields = {
  config: Type.Optional(Type.Object({ enable_collect_everything: Type.Boolean() })),
  toolbarParams: Type.Optional(JsonObject),
  isAuthenticated: Type.Optional(Type.Boolean()),
  supportedCompression: Type.Optional(Type.Array(Type.String())),
  sessionRecording: Type.Optional(Type.Boolean()),
  surveys: Type.Optional(Type.Boolean()),
  heatmaps: Type.Optional(Type.Boolean()),
  capturePerformance: Type.Optional(Type.Boolean()),
  autocapture_opt_out: Type.Optional(Type.Boolean()),
  autocaptureExceptions: Type.Optional(Type.Boolean()),
  siteApps: Type.Optional(Type.Array(Type.Unknown())),
};

/** A flag's value in the legacy maps: its variant, or whether it is on. */
const FlagValue = Type.Union([Type.String(), Type.Boolean()]);

/**
 * /flags and /decide. `?v=2` and later on /flags: `flags` (details by key); older /flags and /decide
 * v2+: `featureFlags` (values by key) and `featureFlagPayloads`; /decide v1: `featureFlags` lists the
 * enabled keys. `evaluatedAt` (ms since the epoch) on /flags only.
 */
export const FlagsResponse = Type.Object({
  ...configFields,
  flags: Type.Optional(Type.Record(Type.String(), FlagDetails)),
  featureFlags: Type.Optional(Type.Union([Type.Record(Type.String(), FlagValue), Type.Array(Type.String())])),
  featureFlagPayloads: Type.Optional(Type.Record(Type.String(), Type.String())),
  errorsWhileComputingFlags: Type.Boolean(),
  requestId: Type.String(),
  evaluatedAt: Type.Optional(Type.Integer()),
});
export type FlagsResponse = Static<typeof FlagsResponse>;
