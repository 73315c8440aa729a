/**
 * `--help`/`-h` on every command and subcommand prints help, exits 0 and does nothing else: no data
 * directory, output file or database is touched. Usage errors exit 2 with the usage line.
 * Most cases run `main` in this process (fast); a few go through bin/warden.js for the exit code.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, GROUPS } from '../../src/cli/help.js';
import { main } from '../../src/cli/main.js';
import { warden } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-help-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Options that would make each command touch something, were it to run. */
const TOUCHING = [
  '--data-dir',
  join(dir, 'data'),
  '--out',
  join(dir, 'out'),
  '--from',
  join(dir, 'from'),
  '--email',
  'a@b.c',
  '--password',
  'p',
  '--organization',
  'O',
  '--domain',
  'x.test',
];
/** A database no one listens at: a command that tried to connect would fail, not pass. */
const NO_DATABASE = 'postgres://nobody@127.0.0.1:1/none';

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
});
afterEach(() => vi.restoreAllMocks());

const run = async (args: string[]) => ({ code: await main(args), stdout: out.splice(0).join('\n'), stderr: err.splice(0).join('\n') });

const everyCommand = [...Object.keys(COMMANDS), ...Object.keys(GROUPS)];

describe('help', () => {
  it.each(everyCommand)('warden %s --help / -h / help: only the help, exit 0', async (command) => {
    const words = command.split(' ');
    const forms = [
      [...words, '--help'],
      [...words, '-h'],
      ['help', ...words],
      [...words, '--help', ...TOUCHING],
      ['--help', ...words],
    ];
    for (const args of forms) {
      const res = await run(args);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stderr, args.join(' ')).toBe('');
      expect(res.stdout, args.join(' ')).toMatch(new RegExp(`^Usage: warden ${words[0]}`));
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('prints the overview for warden --help, -h and help; a command is needed otherwise', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const res = await run(args);
      expect(res.code).toBe(0);
      for (const command of Object.keys(COMMANDS)) expect(res.stdout).toContain(command.split(' ')[0]);
    }
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^warden: a command is needed\nUsage: warden <command>/);
  });
});

describe('usage errors', () => {
  it('exit 2 with the usage line, before anything is opened', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['nope'], /^warden: unknown command "nope"\nUsage: warden <command>/],
      [['help', 'nope'], /^warden: unknown command "nope"\nUsage: warden <command>/],
      [['audit'], /^warden audit: a subcommand is needed\nUsage: warden audit <verify\|export>/],
      [['audit', 'nope'], /^warden audit: unknown subcommand "nope"\nUsage: warden audit/],
      [['serve', '--prot', '9000', '--data-dir', join(dir, 'data')], /^warden serve: unknown option --prot\nUsage: warden serve/],
      [['migrate', 'now', '--data-dir', join(dir, 'data')], /^warden migrate: unexpected "now"\nUsage: warden migrate/],
      [['serve', '-p', '80', '--data-dir', join(dir, 'data')], /^warden serve: unexpected "-p"\nUsage: warden serve/],
      [['bootstrap', '--data-dir', join(dir, 'data')], /^warden bootstrap: missing --email, --password, --organization\nUsage: warden bootstrap/],
      [['audit', 'export', '--data-dir', join(dir, 'data')], /usage: warden audit export/],
    ];
    for (const [args, message] of cases) {
      const res = await run(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr, args.join(' ')).toMatch(message);
      expect(res.stdout).toBe('');
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('through bin/warden.js', () => {
  it('exits 0 for serve --help, migrate -h and audit verify --help, touching nothing', async () => {
    for (const args of [
      ['serve', '--help'],
      ['migrate', '-h'],
      ['audit', 'verify', '--help'],
    ]) {
      const res = await warden([...args, '--data-dir', join(dir, 'data')], { DATABASE_URL: NO_DATABASE });
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout).toMatch(/^Usage: warden /);
      expect(res.stderr).toBe('');
    }
    expect(existsSync(join(dir, 'data'))).toBe(false);
    const unknown = await warden(['-x'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^warden: unknown command "-x"\nUsage: warden/);
  });
});
