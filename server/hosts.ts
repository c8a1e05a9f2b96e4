// Which host names this server answers for: the guard against DNS rebinding.
//
// A page at http://rebind.example:8888 whose name its owner re-points at 127.0.0.1 is, to the browser, still
// rebind.example: it may read every answer, and its Origin matches the Host it sends, so the origin check
// (origin.ts) passes. What gives it away is that Host: the server answers only for names it knows. An IP
// address and `localhost` cannot be rebound (no DNS name of the attacker's is involved: the browser connects
// to the address, or resolves localhost itself), so they are always served, on any port (a forwarded one, as
// Vagrant's, differs from the one listened on). Any other name must be listed in ALLOWED_HOSTS, or `*` there
// serves every name. A request without Host (HTTP/1.0) comes from no browser and is served.
import { isIP } from 'node:net';

/** A Host header: a name or IPv4 address, or an IPv6 address in brackets, then an optional port. */
const HOST_HEADER = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9_.-]+))(?::\d{1,5})?$/i;

/** Whether a request with this Host header is for this server. */
export function hostAllowed(host: string | undefined, allowedHosts: readonly string[]): boolean {
  if (host === undefined) return true;
  const name = hostName(host);
  if (name === undefined) return false;
  return isIP(name) !== 0 || name === 'localhost' || allowedHosts.includes(name) || allowedHosts.includes('*');
}

/** The host name of a Host header, in lowercase, without brackets or a final dot; undefined when malformed. */
export function hostName(host: string): string | undefined {
  const match = HOST_HEADER.exec(host);
  const name = match?.[1] ?? match?.[2];
  return name?.toLowerCase().replace(/\.$/, '');
}
