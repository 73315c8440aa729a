import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from './canonical-json.js';

/**
 * The Ed25519 key that signs retention checkpoints (src/domain/activity/activity-retention.ts), kept in a
 * PEM file outside the database: whoever can rewrite the database cannot forge a checkpoint without
 * it. Created on first use (mode 0600). Several nodes on one Postgres must share the same file.
 */
export interface AuditKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function fromPem(pem: string, path: string): AuditKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an Ed25519 private key.`);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The key in `path`, or null when the file does not exist. */
export function readAuditKey(path: string): AuditKey | null {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return fromPem(pem, path);
}

/** The key in `path`, created (mode 0600) when there is none yet. */
export function loadOrCreateAuditKey(path: string): AuditKey {
  const existing = readAuditKey(path);
  if (existing) return existing;
  const { privateKey } = generateKeyPairSync('ed25519');
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readAuditKey(path)!;
}

/** What a checkpoint's signature covers. */
export interface CheckpointFacts {
  organization_id: string;
  up_to_chain_seq: number;
  hash_at: string;
}

const payload = (c: CheckpointFacts) =>
  Buffer.from(`warden-activity-checkpoint-v1\n${canonicalJson({ ...c, up_to_chain_seq: String(c.up_to_chain_seq) })}`, 'utf8');

export function signCheckpoint(key: AuditKey, c: CheckpointFacts): string {
  return sign(null, payload(c), key.privateKey).toString('base64');
}

export function checkpointSignatureValid(key: AuditKey, c: CheckpointFacts, signature: string): boolean {
  try {
    return verify(null, payload(c), key.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
