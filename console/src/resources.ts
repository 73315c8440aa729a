/**
 * The resources of PostHog's access-control model as people read them: a name and a product area
 * (PostHog's settings group them the same way). Every resource of src/access/resources.ts has one;
 * test/unit/console-resources.test.ts keeps the two lists in step.
 */
export const RESOURCE_GROUPS: ReadonlyArray<{ name: string; resources: Readonly<Record<string, string>> }> = [
  {
    name: 'Product analytics',
    resources: {
      insight: 'Insights',
      dashboard: 'Dashboards',
      notebook: 'Notebooks',
      action: 'Actions',
      web_analytics: 'Web analytics',
      heatmap: 'Heatmaps',
      customer_analytics: 'Customer analytics',
      revenue_analytics: 'Revenue analytics',
      export: 'Exports',
      sharing_configuration: 'Sharing',
    },
  },
  {
    name: 'Feature management',
    resources: {
      feature_flag: 'Feature flags',
      experiment: 'Experiments',
      early_access_feature: 'Early access features',
      survey: 'Surveys',
    },
  },
  { name: 'Session replay', resources: { session_recording: 'Session recordings', replay_scanner: 'Replay scanner' } },
  {
    name: 'Data',
    resources: {
      event: 'Events',
      warehouse_objects: 'Data warehouse tables',
      external_data_source: 'Data warehouse sources',
      endpoint: 'Endpoints',
      hog_flow: 'Workflows',
      tagger: 'Taggers',
    },
  },
  {
    name: 'AI and LLM',
    resources: {
      llm_analytics: 'LLM analytics',
      llm_playground: 'LLM playground',
      llm_skill: 'LLM skills',
      evaluation: 'Evaluations',
      ai_observability_clusters: 'AI observability clusters',
      mcp_analytics: 'MCP analytics',
    },
  },
  { name: 'Observability', resources: { error_tracking: 'Error tracking', logs: 'Logs', metrics: 'Metrics', tracing: 'Tracing' } },
  { name: 'Other', resources: { activity_log: 'Activity log', toolbar: 'Toolbar', ticket: 'Support tickets' } },
];

const NAMES: Record<string, string> = Object.assign({}, ...RESOURCE_GROUPS.map((g) => g.resources));

/** A resource's name for people ("Feature flags"); the API's name when it has none. */
export const resourceName = (resource: string): string => NAMES[resource] ?? resource;
