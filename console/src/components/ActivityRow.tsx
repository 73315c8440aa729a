import type { ActivityChange, ActivityEntry } from '../api/types';

const show = (value: unknown) => (value === undefined || value === null ? '—' : typeof value === 'string' ? value : JSON.stringify(value));

/** One entry: who did what to which item, and each change before → after. */
export function ActivityRow({ entry }: { entry: ActivityEntry }) {
  const detail = (entry.detail ?? {}) as { name?: string | null; changes?: ActivityChange[] | null; context?: Record<string, unknown> | null };
  const who = entry.is_system ? 'System' : (entry.user?.email ?? 'Someone (deleted or unknown)');
  const changes = detail.changes ?? [];
  return (
    <li className="activity">
      <div className="activity-head">
        <time dateTime={entry.created_at}>{new Date(entry.created_at).toLocaleString()}</time>
        <span>
          <strong>{who}</strong> {entry.activity} <span className="badge">{entry.scope}</span> {detail.name ?? entry.item_id ?? ''}
        </span>
      </div>
      {changes.length > 0 || detail.context ? (
        <details>
          <summary>Changes ({changes.length})</summary>
          {changes.length > 0 ? (
            <table className="diff">
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Before</th>
                  <th scope="col">After</th>
                </tr>
              </thead>
              <tbody>
                {changes.map((c, i) => (
                  <tr key={i}>
                    <th scope="row">{c.field ?? c.type}</th>
                    <td className="before">
                      <del>{show(c.before)}</del>
                    </td>
                    <td className="after">
                      <ins>{show(c.after)}</ins>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {detail.context ? <pre className="context">{JSON.stringify(detail.context, null, 2)}</pre> : null}
        </details>
      ) : null}
    </li>
  );
}
