// Who a request comes from, as the per-IP limits count it: the TCP peer's address, or, when the peer is a
// reverse proxy named in TRUSTED_PROXIES, the client that proxy says it forwards for (X-Forwarded-For, read
// from the right: each trusted proxy appends the address it got the request from, so the first address
// that is not a trusted proxy's is the client's; what is further left the client wrote itself, and is not
// believed). An IPv4 address counts as itself, an IPv6 one as its /64 network.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP, isIPv4, isIPv6, type Socket } from 'node:net';

export class ClientAddresses {
  private readonly proxies: BlockList | undefined;

  /** @param trustedProxies  addresses and networks ("10.0.0.0/8", "::1", "loopback"), as config.ts checked them */
  constructor(trustedProxies: readonly string[]) {
    if (trustedProxies.length === 0) return;
    this.proxies = new BlockList();
    for (const entry of trustedProxies) addProxy(this.proxies, entry);
  }

  /** The client `req` comes from, as the per-IP limits count it. */
  of(req: IncomingMessage): string {
    const remote = req.socket.remoteAddress ?? 'unknown';
    if (!this.proxies) return addressGroup(remote);
    const peer = unmapped(remote);
    if (!this.isProxy(peer)) return addressGroup(peer);
    const forwarded = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0 && this.isProxy(client); i--) {
      const hop = hopAddress(hops[i] ?? '');
      // Not an address: what a trusted proxy would never write. The last proxy is all that is known.
      if (hop === undefined) break;
      client = hop;
    }
    return addressGroup(client);
  }

  /** The TCP peer of `socket`, as the per-IP limits count it (before any request says more). */
  peer(socket: Socket): string {
    return addressGroup(socket.remoteAddress ?? 'unknown');
  }

  /** Whether `socket` comes from a trusted proxy: its connections carry many clients', and are not capped per IP. */
  fromProxy(socket: Socket): boolean {
    return this.proxies !== undefined && this.isProxy(unmapped(socket.remoteAddress ?? 'unknown'));
  }

  private isProxy(address: string): boolean {
    if (!this.proxies) return false;
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    return family !== undefined && this.proxies.check(address, family);
  }
}

type ProxyNetwork = { address: string; prefix: number; family: 'ipv4' | 'ipv6' };

/**
 * A TRUSTED_PROXIES entry: an address, a network (address/prefix) or `loopback`; or, when it is none of those
 * or would trust every address, why not (config.ts refuses it with that reason). An IPv4-mapped IPv6 entry
 * (`::ffff:10.0.0.0/104`) is the IPv4 network it maps, as the addresses it is checked against are.
 */
export function parseProxyEntry(entry: string): ProxyNetwork[] | string {
  if (entry === 'loopback') {
    return [
      { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
    ];
  }
  const notOne = `${entry} is not an IP address, a network such as 10.0.0.0/8 or fd00::/8, or loopback`;
  const [written = '', prefixText, ...rest] = entry.split('/');
  if (isIP(written) === 0 || rest.length > 0) return notOne;
  const address = unmapped(written);
  const mapped = address !== written;
  const family = isIPv4(address) ? 'ipv4' : 'ipv6';
  const max = isIPv4(written) ? 32 : 128;
  const given = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(given) || given < 0 || given > max) return notOne;
  // A mapped network is the IPv4 one under it; one wider than the mapped range reaches past IPv4.
  const prefix = mapped ? given - 96 : given;
  if (prefix < 0) return `${entry} reaches past the IPv4-mapped range; write the IPv4 network (such as 10.0.0.0/8)`;
  if (prefix === 0) return `${entry} trusts every address: any client could name itself in X-Forwarded-For and pass every per-IP limit; name the proxies' own addresses or network`;
  // BlockList checks an IPv4 address against the IPv6 networks too, as ::ffff:a.b.c.d: an IPv6 network holding
  // ::ffff:0:0/96 (::/64, or ::1/64, loopback mistyped) would trust every IPv4 client.
  if (family === 'ipv6' && holdsEveryIPv4(address, prefix)) return `${entry} holds every IPv4 address (as ::ffff:0:0/96): any IPv4 client could name itself in X-Forwarded-For and pass every per-IP limit; name the proxies' own addresses or network`;
  return [{ address, prefix, family }];
}

/** Whether the IPv6 network `address`/`prefix` holds the IPv4-mapped range, as BlockList checks it. */
function holdsEveryIPv4(address: string, prefix: number): boolean {
  const network = new BlockList();
  network.addSubnet(address, prefix, 'ipv6');
  return network.check('0.0.0.0', 'ipv4');
}

function addProxy(list: BlockList, entry: string): void {
  const networks = parseProxyEntry(entry);
  if (typeof networks === 'string') throw new Error(`TRUSTED_PROXIES: ${networks}`);
  for (const { address, prefix, family } of networks) list.addSubnet(address, prefix, family);
}

/** An X-Forwarded-For hop as proxies write it: an address, an IPv4 address with a port, or [IPv6] with one. */
function hopAddress(hop: string): string | undefined {
  const text = hop.trim();
  if (isIP(text)) return unmapped(text);
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed && isIPv6(bracketed[1] ?? '')) return unmapped(bracketed[1] ?? '');
  const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(text);
  if (withPort && isIPv4(withPort[1] ?? '')) return withPort[1];
  return undefined;
}

/**
 * An IPv4 address written as such, not mapped into IPv6 in any spelling (`::ffff:1.2.3.4`, `::FFFF:1.2.3.4`,
 * `::ffff:102:304`, `0:0:0:0:0:ffff:…`): how a dual-stack socket reports an IPv4 peer, and what TRUSTED_PROXIES
 * and the per-IP limits compare.
 */
function unmapped(address: string): string {
  const h = isIPv6(address) ? expandIPv6(address) : undefined;
  return h && isMapped(h) ? ipv4Tail(h) : address;
}

/** Whether an IPv6 address's groups are an IPv4 address mapped into ::ffff:0:0/96. */
function isMapped(h: readonly number[]): boolean {
  return h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff;
}

/** The IPv4 address in the last 32 bits of an IPv6 address's groups. */
function ipv4Tail(h: readonly number[]): string {
  const [hi = 0, lo = 0] = h.slice(6);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * The client an address counts as: an IPv4 address as such, an IPv6 address as its /64 network, written
 * `2001:db8:0:1::/64`. One IPv6 subscriber is given a /64 (or more) to pick addresses from, so counting each
 * address apart would let one client take a fresh address for each guest, room or connection and pass every
 * per-IP cap.
 */
export function addressGroup(address: string): string {
  const hextets = isIPv6(address) ? expandIPv6(address) : undefined;
  if (!hextets || hextets.every((h) => h === 0)) return address;
  // Mapped (how a dual-stack socket reports an IPv4 peer), or written by a stateless NAT64 into 64:ff9b::/96:
  // the IPv4 client it carries, not one /64 every IPv4 user would share. (A NAT64 address is only counted so:
  // no trust is given on it, see unmapped.)
  const nat64 = hextets[0] === 0x64 && hextets[1] === 0xff9b && hextets.slice(2, 6).every((h) => h === 0);
  if (nat64 || isMapped(hextets)) return ipv4Tail(hextets);
  // The loopback (::1) is one host, and is kept as it is written.
  if (hextets.slice(0, 7).every((h) => h === 0) && hextets[7] === 1) return '::1';
  return `${hextets.slice(0, 4).map((h) => h.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (which net.isIPv6 has accepted), a zone (`%eth0`) dropped. */
function expandIPv6(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? '';
  // An IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = (dotted[2] ?? '').split('.').map(Number);
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  return groups.length === 8 && groups.every((h) => Number.isInteger(h) && h >= 0 && h <= 0xffff) ? groups : undefined;
}
