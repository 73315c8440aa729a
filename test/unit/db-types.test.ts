import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateDbTypes, SCHEMA_FILE } from '../../scripts/generate-db-types.mjs';
import { migrations } from '../../src/store/migrations/index.js';

describe('src/store/schema.ts (the Kysely DB types)', () => {
  it('is what the migrations make: run `npm run db:types` after changing one', async () => {
    const generated = await generateDbTypes(migrations);
    expect(readFileSync(SCHEMA_FILE, 'utf8'), 'src/store/schema.ts is stale: run `npm run db:types`').toBe(generated);
  });
});
