import { get } from '../api/client';
import type { ChainStatus as Report } from '../api/types';
import { ErrorMessage } from './ErrorMessage';
import { useLoad } from './useLoad';

/** The activity log's hash chain, checked by the server (GET …/activity_log/verify/). */
export function ChainStatus({ organizationId }: { organizationId: string }) {
  const report = useLoad(() => get<Report>(`/api/organizations/${organizationId}/activity_log/verify/`), [organizationId]);
  const r = report.data;
  return (
    <section className={`card chain ${r ? (r.ok ? 'chain-ok' : 'chain-broken') : ''}`} aria-labelledby="chain-heading" aria-live="polite">
      <h2 id="chain-heading">Tamper evidence</h2>
      <ErrorMessage error={report.error} />
      {r ? (
        <>
          <p>
            <strong>{r.ok ? 'Chain intact' : 'Chain broken'}</strong>: {r.entries} entries checked
            {r.pruned ? `, pruned up to ${r.pruned.up_to_chain_seq}` : ''}.
          </p>
          {r.problems.length > 0 ? (
            <ul>
              {r.problems.slice(0, 20).map((p, i) => (
                <li key={i}>
                  {p.kind} at position {p.chain_seq}
                  {p.count ? ` (${p.count} entries)` : ''}
                  {p.reason ? `: ${p.reason}` : ''}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : (
        <p>Checking…</p>
      )}
      <button type="button" className="secondary" onClick={() => void report.reload()} disabled={report.loading}>
        Check again
      </button>
    </section>
  );
}
