/**
 * The catalogue of personal API key scope objects: PostHog's list (posthog/scopes.py) plus the
 * source document's `event`. Every reader (key validation, the guard, the OpenAPI document, the
 * console's scope picker, the matrix tool) takes it from here.
 */
export const SCOPE_OBJECTS = [
  'action',
  'access_control',
  'account',
  'activity_log',
  'alert',
  'annotation',
  'approvals',
  'batch_export',
  'batch_import',
  'batch_import_support',
  'billing',
  'business_knowledge',
  'canvas',
  'cohort',
  'comment',
  'conversation',
  'customer_analytics',
  'customer_task',
  'customer_journey',
  'customer_profile_config',
  'data_catalog',
  'data_catalog_approval',
  'dashboard',
  'event_filter',
  'dashboard_template',
  'dataset',
  'early_access_feature',
  'endpoint',
  'engineering_analytics',
  'error_tracking',
  'evaluation',
  'element',
  'event',
  'event_definition',
  'experiment',
  'experiment_holdout',
  'experiment_saved_metric',
  'export',
  'external_data_schema',
  'external_data_source',
  'feature_flag',
  'file_system',
  'file_system_shortcut',
  'group',
  'health_issue',
  'heatmap',
  'hog_flow',
  'hog_function',
  'ingestion_warning',
  'insight',
  'insight_variable',
  'integration',
  'legal_document',
  'link',
  'live_debugger',
  'llm_analytics',
  'ai_observability_clusters',
  'llm_gateway',
  'llm_playground',
  'llm_prompt',
  'llm_provider_key',
  'llm_skill',
  'logs',
  'loop',
  'marketing_analytics',
  'mcp_analytics',
  'metrics',
  'notebook',
  'organization',
  'organization_integration',
  'organization_member',
  'person',
  'plugin',
  'product_enablement',
  'product_tour',
  'project',
  'property_definition',
  'query',
  'query_performance',
  'replay_scanner',
  'review_hog',
  'revenue_analytics',
  'session_recording',
  'session_recording_playlist',
  'sharing_configuration',
  'signal_scout',
  'stamphog',
  'streamlit_app',
  'subscription',
  'survey',
  'tagger',
  'ticket',
  'task',
  'toolbar',
  'tracing',
  'field_note',
  'uploaded_media',
  'usage_metric',
  'user',
  'user_interview',
  'vision_action',
  'vision_alert',
  'visual_review',
  'warehouse_objects',
  'warehouse_table',
  'warehouse_view',
  'web_analytics',
  'webhook',
  'wizard_session',
] as const;

export type ScopeObject = (typeof SCOPE_OBJECTS)[number];
export type ScopeAction = 'read' | 'write';
export const SCOPE_ACTIONS: readonly ScopeAction[] = ['read', 'write'];

/** The scope that grants everything. */
export const ALL_SCOPES = '*';

const objectSet: ReadonlySet<string> = new Set(SCOPE_OBJECTS);

export function isScopeObject(value: string): value is ScopeObject {
  return objectSet.has(value);
}

/** True for `*` and for `object:read|write` with an object from the catalogue. */
export function isValidScope(scope: unknown): scope is string {
  if (scope === ALL_SCOPES) return true;
  if (typeof scope !== 'string') return false;
  const [object, action, ...rest] = scope.split(':');
  return rest.length === 0 && object !== undefined && isScopeObject(object) && (action === 'read' || action === 'write');
}

/** Does a key holding `scopes` satisfy `object:action`? `write` implies `read`; `*` grants all. */
export function scopesGrant(scopes: readonly string[], object: ScopeObject, action: ScopeAction): boolean {
  for (const s of scopes) {
    if (s === ALL_SCOPES || s === `${object}:write`) return true;
    if (action === 'read' && s === `${object}:read`) return true;
  }
  return false;
}
