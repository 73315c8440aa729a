#!/usr/bin/env node
// Writes docs/routes.md from the route declarations: builds the app from dist/ (run `npm run build`
// or `tsc -p tsconfig.json` first; `npm run docs:routes` does both) on a throwaway in-memory
// database, reads the OpenAPI document it generates, and renders it (src/http/route-docs.ts).
// `--check` writes nothing and exits 1 when docs/routes.md differs.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'docs', 'routes.md');
const dist = (path) => import(new URL(`../dist/${path}`, import.meta.url).href);

const [{ loadConfig }, { buildApp }, { openStore }, { routeTableMarkdown }] = await Promise.all([
  dist('config.js'),
  dist('http/app.js'),
  dist('store/open.js'),
  dist('http/route-docs.js'),
]);

const db = await openStore({ dataDir: null });
let markdown;
try {
  const { app } = await buildApp(db, { ...loadConfig({}, {}), logLevel: 'silent', databaseUrl: undefined });
  try {
    await app.ready();
    markdown = routeTableMarkdown(app.swagger());
  } finally {
    await app.close();
  }
} finally {
  await db.close();
}

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== markdown) {
    console.error('docs/routes.md is out of date: run `npm run docs:routes`');
    process.exit(1);
  }
  console.log('docs/routes.md is up to date');
} else {
  await writeFile(target, markdown);
  console.log(`wrote docs/routes.md (${markdown.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| method')).length} routes)`);
}
