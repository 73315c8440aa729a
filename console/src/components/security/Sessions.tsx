import { del, get, post } from '../../api/client';
import { ErrorMessage } from '../ErrorMessage';
import { useAction, useLoad } from '../useLoad';

interface SessionRow {
  id: string;
  created_at: string;
  last_seen_at: string;
  ip_address: string | null;
  user_agent: string | null;
  auth_method: string;
  second_factor: string | null;
  is_current: boolean;
}

const how = (s: SessionRow) => (s.second_factor && s.auth_method !== 'passkey' ? `${s.auth_method} + ${s.second_factor.replace('_', ' ')}` : s.auth_method);

/** Your sessions: where and how you are signed in; end any other, or all others. */
export function Sessions() {
  const list = useLoad(() => get<{ results: SessionRow[] }>('/api/users/@me/sessions/'), []);
  const action = useAction();
  const end = (s: SessionRow) =>
    void action.run(async () => {
      await del(`/api/users/@me/sessions/${s.id}/`);
      await list.reload();
    }, 'Session ended.');
  const endOthers = () =>
    void action.run(async () => {
      await post('/api/users/@me/sessions/end_others/');
      await list.reload();
    }, 'Every other session ended.');

  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <ErrorMessage error={action.error ?? list.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <table>
        <caption className="visually-hidden">Your sessions</caption>
        <thead>
          <tr>
            <th>Signed in</th>
            <th>Last seen</th>
            <th>Address</th>
            <th>Browser</th>
            <th>How</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.results ?? []).map((s) => (
            <tr key={s.id}>
              <td>{new Date(s.created_at).toLocaleString()}</td>
              <td>{new Date(s.last_seen_at).toLocaleString()}</td>
              <td>{s.ip_address ?? '—'}</td>
              <td>{s.user_agent ?? '—'}</td>
              <td>{how(s)}</td>
              <td>
                {s.is_current ? (
                  'This session'
                ) : (
                  <button type="button" className="danger" onClick={() => end(s)}>
                    End session
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={endOthers} disabled={action.busy}>
        End all other sessions
      </button>
    </section>
  );
}
