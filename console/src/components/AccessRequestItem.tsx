import { useState } from 'react';
import { post } from '../api/client';
import type { AccessRequest } from '../api/types';
import { ErrorMessage } from './ErrorMessage';
import { SelectField, TextField } from './Field';
import { DURATIONS } from './RequestAccess';
import { useAction } from './useLoad';

const LEVELS: Record<string, readonly string[]> = { project: ['member', 'admin'] };
const levelsUpTo = (resource: string, level: string) => {
  const all = LEVELS[resource] ?? ['viewer', 'editor', 'manager'];
  return all.slice(0, all.indexOf(level) + 1);
};
const target = (r: AccessRequest) =>
  r.resource === 'project'
    ? `project ${r.project_name}`
    : `${r.resource.replaceAll('_', ' ')}${r.resource_id ? ` ${r.resource_id}` : ' (project-wide)'} in ${r.project_name}`;
const asked = (r: AccessRequest) => (r.duration_hours !== null ? `for ${r.duration_hours} h` : `until ${new Date(r.expires_at!).toLocaleString()}`);

/** One pending access request: who asks for what, for how long and why; approve (perhaps for less) or deny with a reason. */
export function AccessRequestItem({ request, onDecided }: { request: AccessRequest; onDecided(message: string): void }) {
  const action = useAction();
  const [level, setLevel] = useState(request.access_level);
  const [hours, setHours] = useState('');
  const [reason, setReason] = useState('');
  const who = request.requester.email;
  const base = `/api/projects/${request.project_id}/access_requests/${request.id}/`;
  const shorter = DURATIONS.filter(([h]) => request.duration_hours === null || h < request.duration_hours);

  const approve = () =>
    void action.run(async () => {
      await post(`${base}approve/`, { access_level: level, ...(hours ? { duration_hours: Number(hours) } : {}), ...(reason ? { reason } : {}) });
      onDecided(`Approved: ${who} has ${level} access to ${target(request)}.`);
    });
  const deny = () =>
    void action.run(async () => {
      await post(`${base}deny/`, { reason });
      onDecided(`Denied: ${who}'s request for ${target(request)}.`);
    });

  return (
    <li className="card request">
      <h3>
        {who} asks for {request.access_level} access to {target(request)}
      </h3>
      <p>
        {asked(request)} · asked {new Date(request.created_at).toLocaleString()} — “{request.reason}”
      </p>
      <div className="inline-form">
        <SelectField label={`Level for ${who}`} value={level} onChange={(e) => setLevel(e.target.value)}>
          {levelsUpTo(request.resource, request.access_level).map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </SelectField>
        <SelectField label={`Duration for ${who}`} value={hours} onChange={(e) => setHours(e.target.value)}>
          <option value="">As requested</option>
          {shorter.map(([h, label]) => (
            <option key={h} value={h}>
              {label}
            </option>
          ))}
        </SelectField>
        <TextField label={`Reason for ${who}`} value={reason} onChange={(e) => setReason(e.target.value)} hint="Required to deny." />
        <button type="button" onClick={approve} disabled={action.busy}>
          Approve
        </button>
        <button type="button" className="danger" onClick={deny} disabled={action.busy}>
          Deny
        </button>
      </div>
      <ErrorMessage error={action.error} />
    </li>
  );
}
