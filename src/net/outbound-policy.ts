import { BlockList, isIP } from 'node:net';

/**
 * Where Warden's server-side requests (SAML metadata, OIDC discovery and keys, activity-log sinks)
 * may go. By default: https only, and never to an address of Warden's own network: loopback,
 * private, shared (CGNAT), link-local (cloud metadata services), multicast, reserved, or IPv4
 * tunnelled in IPv6. The operator names exceptions (WARDEN_OUTBOUND_ALLOW): host names, addresses
 * or CIDR ranges; a destination they name may be any address and may use plain http.
 * Pure: no I/O. The client that enforces it on every connection is ./outbound-fetch.ts.
 */
export interface OutboundPolicy {
  /** May a request go to this URL at all (scheme, credentials, a literal address)? */
  urlAllowed(url: URL): boolean;
  /** May a connection for `host` go to this resolved address? */
  addressAllowed(host: string, address: string): boolean;
}

const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  internal.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  internal.addSubnet(net, prefix, 'ipv6');
}

/** IPv4 in IPv6 (mapped): kept apart, as BlockList would also match plain IPv4 against it. */
const mapped = new BlockList();
mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

const family = (address: string): 'ipv4' | 'ipv6' | null => {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null;
};

/** A bare address of a URL's host ("[::1]" → "::1"), or null for a name. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return family(bare) ? bare : null;
}

/** Is this an address of a private, loopback, link-local or otherwise non-public network? */
export function isInternalAddress(address: string): boolean {
  const f = family(address);
  return f === null || internal.check(address, f) || (f === 'ipv6' && mapped.check(address, 'ipv6'));
}

/** Parses the operator's list: host names, addresses and CIDR ranges. Throws on a malformed entry. */
export function parseOutboundAllow(entries: readonly string[]): { hosts: Set<string>; ranges: BlockList } {
  const hosts = new Set<string>();
  const ranges = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const [net, bits, extra] = entry.split('/');
    const f = family(net!);
    if (bits !== undefined || f) {
      const prefix = bits === undefined ? (f === 'ipv4' ? 32 : 128) : Number(bits);
      if (!f || extra !== undefined || !/^\d+$/.test(bits ?? '0') || prefix > (f === 'ipv4' ? 32 : 128)) {
        throw new Error(`"${raw}" is not an address or CIDR range`);
      }
      ranges.addSubnet(net!, prefix, f);
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)) {
      hosts.add(entry);
    } else {
      throw new Error(`"${raw}" is not a host name, address or CIDR range`);
    }
  }
  return { hosts, ranges };
}

export function outboundPolicy(allow: readonly string[] = []): OutboundPolicy {
  const { hosts, ranges } = parseOutboundAllow(allow);
  const inRanges = (address: string) => {
    const f = family(address);
    return f !== null && ranges.check(address, f);
  };
  const named = (host: string) => hosts.has(host.toLowerCase().replace(/\.$/, ''));
  const addressAllowed = (host: string, address: string) => named(host) || inRanges(address) || !isInternalAddress(address);
  return {
    addressAllowed,
    urlAllowed(url) {
      if (url.username || url.password) return false;
      const literal = literalAddress(url.hostname);
      const trusted = named(url.hostname) || (literal !== null && inRanges(literal));
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && trusted)) return false;
      return literal === null || addressAllowed(url.hostname, literal);
    },
  };
}
