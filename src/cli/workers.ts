import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';
import type { WardenConfig } from '../config.js';
import { migrate } from '../store/migrate.js';
import { openDatabase, storeOptions } from '../store/open.js';
import { startupMessage } from './startup.js';
import { answerMetricsRequests } from '../http/cluster-metrics.js';

/**
 * `warden serve --workers N` (N > 1, Postgres only): this process is the primary. It applies the
 * migrations once, forks N workers with node:cluster (they share the port; each is a full node with
 * its own access cache and its own LISTEN connection, src/cache/invalidation-listener.ts), restarts
 * a worker that dies (with backoff, logged), merges the workers' metrics for a /metrics scrape, and on
 * SIGTERM/SIGINT stops every worker (each drains its requests) before it exits. It serves no request itself.
 */

/** What a worker tells the primary once it listens. */
export interface WorkerListening {
  warden: 'listening';
  address: string;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** JSON log lines in the shape of the workers' own (pino's), so a log collector reads one format. */
function primaryLog(logLevel: string) {
  const threshold = logLevel === 'silent' ? Infinity : (LEVELS[logLevel] ?? 30);
  const line = (level: number, msg: string, extra: Record<string, unknown> = {}) => {
    if (level < threshold) return;
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, hostname: hostname(), role: 'primary', ...extra, msg })}\n`);
  };
  return {
    info: (msg: string, extra?: Record<string, unknown>) => line(30, msg, extra),
    warn: (msg: string, extra?: Record<string, unknown>) => line(40, msg, extra),
    error: (msg: string, extra?: Record<string, unknown>) => line(50, msg, extra),
  };
}

/** A worker that lived at least this long before dying is restarted at once; quicker deaths back off. */
const HEALTHY_MS = 10_000;
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 30_000;
const STOP_GRACE_MS = 30_000;

export async function servePrimary(config: WardenConfig): Promise<number> {
  const log = primaryLog(config.logLevel);
  const count = config.workers;
  // Migrations once, here, before any worker starts (each worker's own check then finds nothing to do).
  const db = await openDatabase(storeOptions(config));
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }

  const slots = new Map<Worker, { slot: number; started: number; listening: boolean }>();
  const failures = new Map<number, number>();
  let stopping = false;
  let exitCode = 0;
  let ready = false;
  let address = '';
  let done: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (done = resolve));

  const fork = (slot: number) => {
    const worker = cluster.fork({ WARDEN_WORKER_SLOT: String(slot) });
    slots.set(worker, { slot, started: Date.now(), listening: false });
    worker.on('message', (message: WorkerListening) => {
      if (message?.warden !== 'listening') return;
      const entry = slots.get(worker);
      if (entry) entry.listening = true;
      address = message.address;
      if (!ready && [...slots.values()].filter((s) => s.listening).length === count) void announce();
    });
  };

  const announce = async () => {
    ready = true;
    const pids = [...slots.keys()].map((w) => w.process.pid);
    log.info(`Warden listening on ${address} (Postgres, ${count} workers)`, { workers: count, worker_pids: pids });
    try {
      if (process.stdout.isTTY)
        console.log((await startupMessage(db, config.publicUrl || address)).replace('\n  Ctrl-C', `\n  ${count} worker processes.\n  Ctrl-C`));
    } finally {
      await db.close();
    }
  };

  const stop = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info(`${signal}: stopping ${slots.size} workers (each drains its requests)`);
    if (slots.size === 0) return done(code);
    for (const worker of slots.keys()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of slots.keys()) worker.process.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
  };

  cluster.on('exit', (worker, code, signal) => {
    const entry = slots.get(worker);
    slots.delete(worker);
    if (stopping) {
      if (slots.size === 0) done(exitCode);
      return;
    }
    if (!entry) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!entry.listening && !ready) {
      // A worker that never started (a port in use, a database refusing): more forks would fail alike.
      log.error(`worker ${entry.slot} (pid ${worker.process.pid}) exited with ${how} before it listened; stopping`);
      stop('start-up failure', 1);
      return;
    }
    const quick = Date.now() - entry.started < HEALTHY_MS;
    const n = quick ? (failures.get(entry.slot) ?? 0) + 1 : 0;
    failures.set(entry.slot, n);
    const delay = n === 0 ? FIRST_DELAY_MS : Math.min(FIRST_DELAY_MS * 2 ** n, MAX_DELAY_MS);
    log.warn(`worker ${entry.slot} (pid ${worker.process.pid}) exited with ${how}; restarting it in ${delay} ms`, { worker: entry.slot });
    // Checked again when the timer fires: a Ctrl-C reaches the workers and this process together.
    setTimeout(() => {
      if (!stopping) fork(entry.slot);
    }, delay);
  });

  answerMetricsRequests();
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let slot = 1; slot <= count; slot++) fork(slot);
  const code = await finished;
  process.exit(code);
}

/** In a worker: tells the primary the address it listens on. */
export function reportListening(address: string): void {
  if (cluster.isWorker && process.send) process.send({ warden: 'listening', address } satisfies WorkerListening);
}

/** The worker's number (1..N) under `--workers`, else undefined. */
export function workerSlot(): number | undefined {
  return cluster.isWorker ? Number(process.env.WARDEN_WORKER_SLOT) || cluster.worker?.id : undefined;
}
