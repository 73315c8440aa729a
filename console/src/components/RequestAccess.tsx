import { useState, type FormEvent } from 'react';
import { post } from '../api/client';
import type { AccessRequest } from '../api/types';
import { ErrorMessage } from './ErrorMessage';
import { SelectField, TextField } from './Field';
import { useAction } from './useLoad';

/** How long one may ask for, in hours (the API takes any whole number up to 90 days). */
export const DURATIONS: ReadonlyArray<[number, string]> = [
  [1, '1 hour'],
  [8, '8 hours'],
  [24, '1 day'],
  [72, '3 days'],
  [168, '1 week'],
  [720, '30 days'],
];

const LEVELS: Record<string, readonly string[]> = { project: ['member', 'admin'] };
const levelsOf = (resource: string) => LEVELS[resource] ?? ['viewer', 'editor', 'manager'];

/**
 * The 403 screen: "You don't have access…", with the server's reason, and a form to ask for access
 * (a level, for how long, and why) that files an access request for the people who could grant it.
 */
export function RequestAccess({
  projectId,
  resource = 'project',
  resourceId,
  detail,
}: {
  projectId: number;
  resource?: string;
  resourceId?: string;
  detail: string;
}) {
  const action = useAction();
  const [form, setForm] = useState({ access_level: levelsOf(resource)[0]!, duration_hours: 8, reason: '' });
  const [filed, setFiled] = useState<AccessRequest | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await action.run(async () => {
      setFiled(
        await post<AccessRequest>(`/api/projects/${projectId}/access_requests/`, { resource, ...(resourceId ? { resource_id: resourceId } : {}), ...form }),
      );
    }, 'Your request was sent to the people who can grant it.');
  };

  return (
    <div className="card" role="region" aria-labelledby="no-access-heading">
      <h2 id="no-access-heading">You don't have access…</h2>
      <p>{detail}</p>
      <form onSubmit={(e) => void submit(e)} aria-labelledby="request-access-heading">
        <h3 id="request-access-heading">Request access</h3>
        <fieldset disabled={filed !== null} className="plain">
          <SelectField label="Level" name="access_level" value={form.access_level} onChange={(e) => setForm({ ...form, access_level: e.target.value })}>
            {levelsOf(resource).map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </SelectField>
          <SelectField
            label="For"
            name="duration_hours"
            value={form.duration_hours}
            onChange={(e) => setForm({ ...form, duration_hours: Number(e.target.value) })}
          >
            {DURATIONS.map(([hours, label]) => (
              <option key={hours} value={hours}>
                {label}
              </option>
            ))}
          </SelectField>
          <TextField label="Reason" name="reason" required value={form.reason} onChange={(e) => setForm({ ...form, reason: e.target.value })} />
        </fieldset>
        <ErrorMessage error={action.error} />
        <p role="status" className="status">
          {action.message}
        </p>
        {filed ? null : (
          <button type="submit" disabled={action.busy}>
            Request access
          </button>
        )}
      </form>
    </div>
  );
}
