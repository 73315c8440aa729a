import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateDbTypes, SCHEMA_FILE } from '../../scripts/generate-db-types.mjs';
import type { Queryable } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations/index.js';
import { qb, row, rows, sql } from '../../src/store/query-builder.js';

describe('src/store/schema.ts (the Kysely DB types)', () => {
  it('is what the migrations make: run `npm run db:types` after changing one', async () => {
    const generated = await generateDbTypes(migrations);
    expect(readFileSync(SCHEMA_FILE, 'utf8'), 'src/store/schema.ts is stale: run `npm run db:types`').toBe(generated);
  });

  it('follows a column change: a new migration changes the generated types', async () => {
    const changed = await generateDbTypes([
      ...migrations,
      { name: '9999_test', sql: 'ALTER TABLE users ADD COLUMN nickname text; ALTER TABLE users DROP COLUMN last_name;' },
    ]);
    const users = /export interface Users \{[^}]*\}/.exec(changed)![0];
    expect(users).toContain('  nickname: string | null;');
    expect(users).not.toContain('last_name');
  });
});

describe('the query builder', () => {
  /** A Queryable that records what it is sent. */
  function recorder(answer: unknown[]) {
    const sent: Array<{ text: string; params: readonly unknown[] | undefined }> = [];
    const q: Queryable = {
      async query<Row>(text: string, params?: readonly unknown[]) {
        sent.push({ text, params });
        return answer as Row[];
      },
      async exec() {},
    };
    return { q, sent };
  }

  it('sends the compiled text and parameters through the Queryable it is given', async () => {
    const { q, sent } = recorder([{ id: 1 }]);
    const found = await row(q, qb.selectFrom('users').selectAll().where('id', '=', 7).forUpdate());
    expect(found).toEqual({ id: 1 });
    expect(sent).toEqual([{ text: 'select * from "users" where "id" = $1 for update', params: [7] }]);
  });

  it('runs raw sql templates with their parameters', async () => {
    const { q, sent } = recorder([]);
    expect(await rows(q, sql<{ n: number }>`SELECT count(*)::int AS n FROM users WHERE id = ANY(${[1, 2]}::int[])`)).toEqual([]);
    expect(sent).toEqual([{ text: 'SELECT count(*)::int AS n FROM users WHERE id = ANY($1::int[])', params: [[1, 2]] }]);
  });
});
