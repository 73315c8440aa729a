import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for 127.0.0.1/localhost, made with the openssl CLI; `caFile` is its PEM. */
export function selfSignedCertificate(): { key: string; cert: string; caFile: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-sink-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    caFile: certFile,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: any;
  status: number;
}

/**
 * A real HTTPS receiver on loopback. `status` is what it answers next (200, 500, ...); `stop()` and
 * `start()` take it down and bring it back on the same port. Every request is kept, answered or not.
 */
export class HttpsReceiver {
  status = 200;
  /** How long it takes to answer. */
  delayMs = 0;
  readonly requests: Delivery[] = [];
  private server: Server | null = null;
  port = 0;

  constructor(private tls: { key: string; cert: string }) {}

  get url(): string {
    return `https://127.0.0.1:${this.port}/hook?tenant=t1`;
  }

  /** Requests answered with a 2xx. */
  get accepted(): Delivery[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  async start(): Promise<void> {
    const server = createServer(this.tls, (req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        const status = this.status;
        this.requests.push({ headers: req.headers, raw, body: JSON.parse(raw), status });
        const answer = () => res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'receiver says no' : 'ok');
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    server.keepAliveTimeout = 100;
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
}

/** Polls `check` every 20 ms until it returns a truthy value, at most `timeoutMs`; fails with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
