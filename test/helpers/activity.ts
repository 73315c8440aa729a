import type { Queryable } from '../../src/store/database.js';

/** An activity_log row as the entry tests read it. */
export interface ActivityTestRow {
  seq: number;
  scope: string;
  activity: string;
  item_id: string | null;
  user_id: number | null;
  organization_id: string | null;
  team_id: number | null;
  detail: any;
}

/** The newest entry's seq (0 when the log is empty): take it before a request, then read what came after. */
export async function lastSeq(db: Queryable): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT coalesce(max(seq), 0)::int AS n FROM activity_log');
  return row!.n;
}

export async function rowsSince(db: Queryable, seq: number): Promise<ActivityTestRow[]> {
  return db.query<ActivityTestRow>(
    `SELECT seq::int AS seq, scope, activity, item_id, user_id, organization_id::text AS organization_id, team_id, detail
       FROM activity_log WHERE seq > $1 ORDER BY seq`,
    [seq],
  );
}
