/**
 * Resource types and their access levels (PostHog's AccessControl model, posthog/rbac): the
 * catalogue the roles and access-control rules read. `project` and `organization` go
 * none < member < admin; every other resource none < viewer < editor < manager, except
 * `activity_log` and `toolbar`, whose highest level is viewer.
 */
export const ACCESS_CONTROL_RESOURCES = [
  'action',
  'customer_analytics',
  'dashboard',
  'early_access_feature',
  'endpoint',
  'experiment',
  'export',
  'external_data_source',
  'warehouse_objects',
  'feature_flag',
  'heatmap',
  'hog_flow',
  'insight',
  'llm_analytics',
  'evaluation',
  'tagger',
  'llm_skill',
  'ai_observability_clusters',
  'notebook',
  'revenue_analytics',
  'session_recording',
  'sharing_configuration',
  'survey',
  'ticket',
  'web_analytics',
  'activity_log',
  'error_tracking',
  'logs',
  'mcp_analytics',
  'metrics',
  'tracing',
  'replay_scanner',
  'toolbar',
  'llm_playground',
  // Warden's own: the source document's event data.
  'event',
] as const;

export type AccessControlResource = (typeof ACCESS_CONTROL_RESOURCES)[number] | 'project' | 'organization';

export const MEMBER_LEVELS = ['none', 'member', 'admin'] as const;
export const RESOURCE_LEVELS = ['none', 'viewer', 'editor', 'manager'] as const;
export type AccessLevel = (typeof MEMBER_LEVELS)[number] | (typeof RESOURCE_LEVELS)[number];

const VIEWER_CAPPED: ReadonlySet<string> = new Set(['activity_log', 'toolbar']);

/** The levels a resource can be given, lowest first. */
export function accessLevelsFor(resource: AccessControlResource): readonly AccessLevel[] {
  if (resource === 'project' || resource === 'organization') return MEMBER_LEVELS;
  return VIEWER_CAPPED.has(resource) ? RESOURCE_LEVELS.slice(0, 2) : RESOURCE_LEVELS;
}

/** PostHog's defaults: project admin, organization member, activity_log/toolbar viewer, else editor. */
export function defaultAccessLevel(resource: AccessControlResource): AccessLevel {
  if (resource === 'project') return 'admin';
  if (resource === 'organization') return 'member';
  return VIEWER_CAPPED.has(resource) ? 'viewer' : 'editor';
}

export const highestAccessLevel = (resource: AccessControlResource): AccessLevel => accessLevelsFor(resource).at(-1)!;

/** The minimum level a rule may give (PostHog: `action` never below viewer). */
export const minimumAccessLevel = (resource: AccessControlResource): AccessLevel => (resource === 'action' ? 'viewer' : 'none');

/** Compares two levels of one resource: negative, zero or positive. */
/**
 * Orders two levels of a resource. Ranked on the whole scale of its kind, not the levels it can be
 * given: `editor` stays above `viewer` for a viewer-capped resource (activity_log), so its
 * `viewer` never satisfies a need of `editor`. A level outside the scale ranks below `none`.
 */
export function compareAccessLevels(resource: AccessControlResource, a: AccessLevel, b: AccessLevel): number {
  const scale: readonly AccessLevel[] = resource === 'project' || resource === 'organization' ? MEMBER_LEVELS : RESOURCE_LEVELS;
  return scale.indexOf(a) - scale.indexOf(b);
}

/** Children inherit their parent's access (PostHog's RESOURCE_INHERITANCE_MAP). */
export const RESOURCE_PARENT: Readonly<Record<string, AccessControlResource>> = {
  session_recording_playlist: 'session_recording',
  dashboard_template: 'dashboard',
};
