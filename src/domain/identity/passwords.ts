import argon2 from 'argon2';
import { validation } from '../errors.js';

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;

/** Django's password validator message, which PostHog returns. */
export function assertAcceptablePassword(password: string, attr = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw validation(`This password is too short. It must contain at least ${MIN_PASSWORD_LENGTH} characters.`, attr, 'password_too_short');
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw validation(`Ensure this field has no more than ${MAX_PASSWORD_LENGTH} characters.`, attr, 'max_length');
  }
}

export const hashPassword = (password: string) => argon2.hash(password, { type: argon2.argon2id });

/** A hash to verify against when the account does not exist, so both paths cost the same. */
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) {
    decoyHash ??= hashPassword('warden-decoy-password');
    await argon2.verify(await decoyHash, password).catch(() => false);
    return false;
  }
  return argon2.verify(hash, password).catch(() => false);
}
