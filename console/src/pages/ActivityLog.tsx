import { useState } from 'react';
import { all, ApiError, get, type Page } from '../api/client';
import type { ActivityEntry, Member } from '../api/types';
import { ActivityRow } from '../components/ActivityRow';
import { ChainStatus } from '../components/ChainStatus';
import { ErrorMessage } from '../components/ErrorMessage';
import { SelectField, TextField } from '../components/Field';
import { FieldErrors } from '../components/FieldErrors';
import { useLoad } from '../components/useLoad';
import { OrganizationLevel } from '../rules';
import { useSession } from '../session';

/** The scopes Warden writes, and how the filter names them. */
const SCOPES: Record<string, string> = {
  Organization: 'Organization',
  OrganizationMembership: 'Organization membership',
  OrganizationDomain: 'Domains and SSO',
  Project: 'Project',
  Team: 'Project (team)',
  Role: 'Roles',
  AccessControl: 'Access control',
  PersonalAPIKey: 'Personal API keys',
  FeatureFlag: 'Feature flags',
  Insight: 'Insights',
  Dashboard: 'Dashboards',
  Event: 'Events',
  Replay: 'Session recordings',
  ChangeRequest: 'Change requests',
  ApprovalPolicy: 'Approval policies',
  Security: 'Security events',
  User: 'Users',
};

/** A range that ends before it starts is an error at the field, and nothing is asked for. */
const rangeError = (f: Filters) =>
  f.after && f.before && f.after > f.before ? new ApiError(400, 'invalid_range', '"Until" must be on or after "From".', 'before') : null;

interface Filters {
  scope: string;
  user: string;
  project: string;
  after: string;
  before: string;
}

function query(f: Filters): string {
  const q = new URLSearchParams();
  if (f.scope) q.set('scope', f.scope);
  if (f.user) q.set('user', f.user);
  if (f.project) q.set('project', f.project);
  if (f.after) q.set('after', new Date(`${f.after}T00:00:00`).toISOString());
  if (f.before) q.set('before', new Date(`${f.before}T23:59:59.999`).toISOString());
  return q.toString();
}

/** The same filters as the advanced activity log (the SIEM feed) names them. */
function siemQuery(f: Filters): string {
  const q = new URLSearchParams({ schema: 'ocsf', ordering: 'created_at', follow: 'true' });
  if (f.scope) q.set('scopes', f.scope);
  if (f.user) q.set('users', f.user);
  if (f.after) q.set('start_date', new Date(`${f.after}T00:00:00`).toISOString());
  if (f.before) q.set('end_date', new Date(`${f.before}T23:59:59.999`).toISOString());
  return q.toString();
}

/** The organization's activity log: filters, before/after of each change, export, the SIEM feed and chain status. */
export function ActivityLog() {
  const { organization, level } = useSession();
  const base = `/api/organizations/${organization?.id}/activity_log/`;
  const [filters, setFilters] = useState<Filters>({ scope: '', user: '', project: '', after: '', before: '' });
  const [cursor, setCursor] = useState<string | null>(null);
  const q = query(filters);
  const badRange = rangeError(filters);
  const page = useLoad(
    async () => (badRange ? null : get<Page<ActivityEntry>>(cursor ?? `${base}?limit=50${q ? `&${q}` : ''}`)),
    [base, q, cursor, Boolean(badRange)],
  );
  const members = useLoad(() => all<Member>(`/api/organizations/${organization?.id}/members/`), [organization?.id]);
  const admin = level >= OrganizationLevel.ADMIN;
  const set = (name: keyof Filters) => (e: { target: { value: string } }) => {
    setCursor(null);
    setFilters({ ...filters, [name]: e.target.value });
  };
  const follow = (link: string | null) => setCursor(link ? new URL(link, location.origin).pathname + new URL(link, location.origin).search : null);

  return (
    <>
      <h1>Activity log</h1>
      {admin ? <ChainStatus organizationId={organization?.id ?? ''} /> : <p className="hint">Chain verification and export are for admins.</p>}
      <FieldErrors error={badRange}>
        <form className="card filters" aria-label="Filter the activity log" onSubmit={(e) => e.preventDefault()}>
          <SelectField label="Scope" value={filters.scope} onChange={set('scope')}>
            <option value="">Any</option>
            {Object.entries(SCOPES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
          <SelectField label="Person" value={filters.user} onChange={set('user')}>
            <option value="">Anyone</option>
            {(members.data ?? []).map((m) => (
              <option key={m.user.uuid} value={m.user.uuid}>
                {m.user.email}
              </option>
            ))}
          </SelectField>
          <SelectField label="Project" value={filters.project} onChange={set('project')}>
            <option value="">Any</option>
            {(organization?.teams ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </SelectField>
          <TextField label="From" name="after" type="date" value={filters.after} onChange={set('after')} />
          <TextField label="Until" name="before" type="date" value={filters.before} onChange={set('before')} />
        </form>
      </FieldErrors>
      {admin && !badRange ? (
        <p className="export">
          Export these entries:{' '}
          <a href={`${base}export/?format=csv${q ? `&${q}` : ''}`} download>
            CSV
          </a>{' '}
          ·{' '}
          <a href={`${base}export/?format=ndjson${q ? `&${q}` : ''}`} download>
            NDJSON
          </a>{' '}
          · SIEM feed (OCSF 1.x, polled oldest first; docs/siem.md):{' '}
          <a
            href={`${filters.project ? `/api/projects/${filters.project}` : `/api/organizations/${organization?.id}`}/advanced_activity_logs/?${siemQuery(filters)}`}
            target="_blank"
            rel="noreferrer"
          >
            OCSF
          </a>
        </p>
      ) : null}
      <ErrorMessage error={page.error} />
      <section aria-labelledby="entries-heading" aria-busy={page.loading}>
        <h2 id="entries-heading">Entries</h2>
        {page.data && page.data.results.length === 0 ? <p>No entries match.</p> : null}
        <ol className="activity-list">
          {(page.data?.results ?? []).map((entry) => (
            <ActivityRow key={entry.id} entry={entry} />
          ))}
        </ol>
        <div className="actions">
          <button type="button" className="secondary" disabled={!page.data?.previous} onClick={() => follow(page.data?.previous ?? null)}>
            Newer
          </button>
          <button type="button" className="secondary" disabled={!page.data?.next} onClick={() => follow(page.data?.next ?? null)}>
            Older
          </button>
        </div>
      </section>
    </>
  );
}
