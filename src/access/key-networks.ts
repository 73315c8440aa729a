import ipaddr from 'ipaddr.js';
import { keyOutsideRangesMessage } from './messages.js';

/**
 * Keys bound to networks: the address ranges a personal API key (a person's or a service account's)
 * may be used from. Pure: parsing with ipaddr.js, matching on plain numbers. A bare address is a
 * /32 (IPv4) or /128 (IPv6) range; an IPv4-mapped IPv6 client (`::ffff:192.0.2.1`, as a dual-stack
 * socket reports IPv4 peers) matches IPv4 ranges, and an IPv4-mapped IPv6 range is stored as the
 * IPv4 range it names. Ranges are kept in canonical form: the network address, then the prefix.
 */

/** The most ranges one key may carry. */
export const MAX_KEY_RANGES = 100;

/**
 * The compiled ranges of a key, kept with the key in the access cache (plain data: the cache
 * freezes what it holds). IPv4 ranges as (network, mask) 32-bit numbers; IPv6 ranges as eight
 * 16-bit parts and a prefix length.
 */
export interface KeyNetworks {
  v4: ReadonlyArray<readonly [number, number]>;
  v6: ReadonlyArray<{ parts: readonly number[]; bits: number }>;
}

const DIGITS = /^\d{1,3}$/;

/** One range in canonical form, or null when it does not parse. */
export function canonicalRange(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > 64 || trimmed.includes('%')) return null;
  const slash = trimmed.indexOf('/');
  const address = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const bitsText = slash < 0 ? null : trimmed.slice(slash + 1);
  if (bitsText !== null && !DIGITS.test(bitsText)) return null;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) parsed = ipaddr.IPv4.parse(address);
  else if (address.includes(':') && ipaddr.IPv6.isValid(address)) parsed = ipaddr.IPv6.parse(address);
  else return null;
  const max = parsed.kind() === 'ipv4' ? 32 : 128;
  let bits = bitsText === null ? max : Number(bitsText);
  if (bits > max) return null;
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  if (parsed.kind() === 'ipv4') {
    const network = ipaddr.IPv4.networkAddressFromCIDR(`${parsed.toString()}/${bits}`);
    return `${network.toString()}/${bits}`;
  }
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${bits}`);
  return `${network.toRFC5952String()}/${bits}`;
}

/**
 * Validates and normalizes a key's ranges: null or [] = usable from anywhere (null). Returns the
 * first range that does not parse as an error.
 */
export function normalizeRanges(list: readonly string[] | null | undefined): { ranges: string[] | null } | { error: string } {
  if (list === null || list === undefined || list.length === 0) return { ranges: null };
  if (list.length > MAX_KEY_RANGES) return { error: `A key may carry at most ${MAX_KEY_RANGES} address ranges.` };
  const out: string[] = [];
  for (const entry of list) {
    const range = typeof entry === 'string' ? canonicalRange(entry) : null;
    if (range === null) {
      return { error: `'${String(entry).slice(0, 64)}' is not an IP address or CIDR range (e.g. 203.0.113.0/24 or 2001:db8::/32).` };
    }
    if (!out.includes(range)) out.push(range);
  }
  return { ranges: out };
}

const v4Number = (address: ipaddr.IPv4) => address.octets.reduce((n, octet) => n * 256 + octet, 0) >>> 0;
const v4Mask = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** Compiles canonical ranges (as stored) into the matcher kept with the cached key; null = anywhere. */
export function compileRanges(ranges: readonly string[] | null): KeyNetworks | null {
  if (ranges === null || ranges.length === 0) return null;
  const v4: Array<readonly [number, number]> = [];
  const v6: Array<{ parts: readonly number[]; bits: number }> = [];
  for (const range of ranges) {
    if (!ipaddr.isValidCIDR(range)) continue;
    const [address, bits] = ipaddr.parseCIDR(range);
    if (address.kind() === 'ipv4') {
      const mask = v4Mask(bits);
      v4.push([(v4Number(address as ipaddr.IPv4) & mask) >>> 0, mask]);
    } else {
      v6.push({ parts: (address as ipaddr.IPv6).parts.slice(), bits });
    }
  }
  return { v4, v6 };
}

function v6Matches(parts: readonly number[], range: { parts: readonly number[]; bits: number }): boolean {
  let bits = range.bits;
  for (let i = 0; i < 8 && bits > 0; i++) {
    const take = Math.min(16, bits);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((parts[i]! & mask) !== (range.parts[i]! & mask)) return false;
    bits -= take;
  }
  return true;
}

/** Is the client address within the key's ranges? An address that does not parse is within none. */
export function addressAllowed(networks: KeyNetworks, address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return false;
  }
  if (parsed.kind() === 'ipv4') {
    const n = v4Number(parsed as ipaddr.IPv4);
    return networks.v4.some(([network, mask]) => (n & mask) >>> 0 === network);
  }
  const parts = (parsed as ipaddr.IPv6).parts;
  return networks.v6.some((range) => v6Matches(parts, range));
}

/** The refusal of a key used from outside its ranges (null: the key may be used from there). */
export function keyAddressRefusal(networks: KeyNetworks | null | undefined, address: string | undefined): string | null {
  if (!networks) return null;
  if (address !== undefined && addressAllowed(networks, address)) return null;
  return keyOutsideRangesMessage(address ?? 'unknown');
}
