import { Type } from '@sinclair/typebox';

/** PostHog's advanced activity log, for SIEMs (src/http/routes/advanced-activity-logs.ts). */
export const AdvancedOrgParams = Type.Object({ organization_id: Type.String() });
export const AdvancedProjectParams = Type.Object({ project_id: Type.String() });

const text = (description: string, maxLength = 200) => Type.Optional(Type.String({ maxLength, description }));

export const AdvancedActivityQuery = Type.Object({
  schema: text('`ocsf` for OCSF events; absent for PostHog activity-log entries.', 20),
  ordering: text('`-created_at` (newest first, the default) or `created_at` (oldest first, in commit order).', 20),
  follow: text('`true` (with ordering=created_at): `next` is always given, so a poller resumes from it.', 10),
  cursor: text('The opaque `next` of an earlier page of this organization.', 400),
  page_size: text('Entries per page, 1 to 1000 (default 100).', 10),
  limit: text('Alias of page_size.', 10),
  start_date: text('Entries at or after this ISO 8601 time.', 64),
  end_date: text('Entries before this ISO 8601 time.', 64),
  users: text('Comma-separated user UUIDs: entries by these actors.', 4000),
  scopes: text('Comma-separated activity scopes (FeatureFlag, Organization, Security, …).', 2000),
  activities: text('Comma-separated activity names (created, updated, login_failed, …).', 2000),
  item_ids: text('Comma-separated ids of the items the entries are about.', 2000),
  class_uid: text('Comma-separated OCSF classes: 3001 Account Change, 3002 Authentication, 6003 API Activity.', 40),
  include_organization_scoped: text('Project route: `true` adds the organization-level entries.', 10),
});

export const AdvancedActivityPage = Type.Object({
  next: Type.Union([Type.String(), Type.Null()]),
  previous: Type.Null(),
  results: Type.Array(Type.Record(Type.String(), Type.Unknown())),
});
