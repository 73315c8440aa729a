// The activity log at 1,000,000 entries on Postgres (issue 5), in one run:
// - p50/p95 of the newest page and of filtered pages (scope + user, item_id) through the real HTTP
//   API (an in-process server, a bootstrap `*` key);
// - the write overhead of logging: the same change (a feature flag's name, in its own transaction)
//   without and with its recordActivity entry, as a ratio.
// Needs DATABASE_URL (a fresh database is created and dropped). BENCH_ACTIVITY_ENTRIES changes the size.
import { loadConfig } from '../dist/config.js';
import { recordActivity } from '../dist/domain/activity/activity.js';
import { userActor } from '../dist/domain/actor.js';
import { bootstrap } from '../dist/domain/identity/signup.js';
import { buildApp } from '../dist/http/app.js';
import { freshStore } from './databases.mjs';
import { compare } from './timing.mjs';

const ENTRIES = Number(process.env.BENCH_ACTIVITY_ENTRIES ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_ACTIVITY_REQUESTS ?? 200);
const ORGS = 10;
const SCOPES = ['FeatureFlag', 'Insight', 'Dashboard', 'Organization', 'Replay', 'Project', 'Security', 'Cohort'];

/**
 * Half the entries belong to the benchmarked organization (its real project and user on every
 * tenth entry, other project and user ids otherwise), the rest to nine other organizations; 8
 * scopes, 5,000 item ids, created over the last 365 days. Entries carry placeholder chain columns
 * so the background chainer leaves them alone (hash chaining is not what is measured here).
 */
async function seed(db, org, projectId, userId) {
  await db.query(`INSERT INTO organizations (name, slug) SELECT 'bench ' || i, 'bench-' || i FROM generate_series(1, ${ORGS - 1}) AS i`);
  const others = (await db.query('SELECT id::text AS id FROM organizations WHERE id <> $1 ORDER BY id', [org])).map((r) => r.id);
  const orgs = `{${[org, ...others].join(',')}}`;
  const scopes = `{${SCOPES.join(',')}}`;
  const batch = 100_000;
  for (let from = 1; from <= ENTRIES; from += batch) {
    const to = Math.min(ENTRIES, from + batch - 1);
    await db.query(
      `INSERT INTO activity_log (organization_id, team_id, user_id, is_system, activity, scope, item_id, detail, created_at, chain_seq, prev_hash, hash)
       SELECT CASE WHEN i % 2 = 0 THEN ($1::uuid[])[1] ELSE ($1::uuid[])[2 + (i / 2) % ${ORGS - 1}] END,
              CASE WHEN i % 2 = 0 AND i % 10 = 0 THEN $2::int ELSE 100000 + i % 50 END,
              CASE WHEN i % 20 = 0 THEN $3::int ELSE 100000 + i % 200 END,
              false,
              (ARRAY['created','updated','deleted'])[1 + i % 3],
              ($4::text[])[1 + (i / 3) % ${SCOPES.length}],
              (i % 5000)::text,
              jsonb_build_object('name', 'item ' || (i % 5000), 'changes', jsonb_build_array(jsonb_build_object('type', 'FeatureFlag', 'action', 'changed', 'field', 'name', 'before', 'a', 'after', 'b'))),
              now() - make_interval(secs => (${ENTRIES} - i) * 31.536),
              -i, 'bench', 'bench'
       FROM generate_series($5::int, $6::int) AS i`,
      [orgs, projectId, userId, scopes, from, to],
    );
  }
  await db.query('ANALYZE activity_log');
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Sequential GETs; returns p50/p95 in ms and the size of the last page. */
async function latency(url, key, path) {
  const times = [];
  let results = 0;
  for (let i = 0; i < REQUESTS + 10; i++) {
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    if (i >= 10) times.push(performance.now() - t); // the first 10 warm up
    results = body.results.length;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), results };
}

export async function benchActivityLog() {
  if (!process.env.DATABASE_URL) {
    console.log('activity log: skipped (needs DATABASE_URL: the 1,000,000-entry figures are for Postgres)');
    return;
  }
  const store = await freshStore();
  let app;
  try {
    const boot = await bootstrap(store.db, {
      email: 'bench@example.com',
      password: 'a long bench password',
      first_name: 'Bench',
      organization_name: 'Bench',
    });
    const org = boot.organization.id;
    const projectId = boot.project.id;
    const t0 = Date.now();
    await seed(store.db, org, projectId, boot.user.id);
    const seeded = ((Date.now() - t0) / 1000).toFixed(1);

    ({ app } = await buildApp(store.db, { ...loadConfig({}, {}), logLevel: 'silent', port: 0 }));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const key = boot.personalApiKey;
    const user = boot.user.uuid;
    const pages = [
      ['organization, newest page', `/api/organizations/${org}/activity_log/`],
      ['project, newest page', `/api/projects/${projectId}/activity_log/`],
      ['organization, scope + user', `/api/organizations/${org}/activity_log/?scope=FeatureFlag&user=${user}`],
      ['organization, item_id', `/api/organizations/${org}/activity_log/?item_id=1234`],
      ['project, scope + item_id', `/api/projects/${projectId}/activity_log/?scope=FeatureFlag&item_id=0`],
      ['organization, 2nd page (cursor)', null],
    ];
    const first = await (await fetch(`${url}/api/organizations/${org}/activity_log/`, { headers: { authorization: `Bearer ${key}` } })).json();
    pages[pages.length - 1][1] = new URL(first.next).pathname + new URL(first.next).search;

    const [{ n: orgEntries }] = await store.db.query('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1', [org]);
    console.log(
      `activity log on Postgres: ${ENTRIES.toLocaleString('en')} entries (${orgEntries.toLocaleString('en')} in the benchmarked organization) seeded in ${seeded}s; ${REQUESTS} sequential requests each`,
    );
    for (const [label, path] of pages) {
      const r = await latency(url, key, path);
      console.log(`  ${label.padEnd(32)}: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms (${r.results} results)`);
    }

    // Write overhead: the same change in its own transaction, without and with its entry.
    const [flag] = await store.db.query(`INSERT INTO feature_flags (team_id, key, name, created_by_id) VALUES ($1, 'bench-flag', 'bench', $2) RETURNING id`, [
      projectId,
      boot.user.id,
    ]);
    const actor = userActor(boot.user.id);
    const change = (withEntry) => async (i) =>
      store.db.transaction(async (tx) => {
        await tx.query('UPDATE feature_flags SET name = $1, updated_at = now() WHERE id = $2', [`bench ${i}`, flag.id]);
        if (withEntry) {
          await recordActivity(tx, {
            organizationId: org,
            teamId: projectId,
            actor,
            scope: 'FeatureFlag',
            activity: 'updated',
            itemId: flag.id,
            detail: { name: 'bench-flag', changes: [{ type: 'FeatureFlag', action: 'changed', field: 'name', before: `bench ${i - 1}`, after: `bench ${i}` }] },
          });
        }
      });
    const w = await compare(change(false), change(true), { rounds: 5, iterations: 300 });
    console.log(
      `  write overhead of logging       : ${(w.a / 1000).toFixed(0)} us without the entry, ${(w.b / 1000).toFixed(0)} us with it; ratio ${(w.b / w.a).toFixed(2)}`,
    );
  } finally {
    await app?.close();
    await store.drop();
  }
}
