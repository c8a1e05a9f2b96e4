// What Parley reads from a MongoDB connection string, with the driver's own parser (the one MongoClient
// uses), so that every URI the driver accepts works here: several hosts, SRV, Unix sockets, IPv6.
import { ConnectionString } from 'mongodb-connection-string-url';

/** The database used when the URI names none. */
export const DEFAULT_DATABASE = 'parley';

/** The database the URI names (its path), or `fallback` when it names none. Throws on a URI the driver refuses. */
export function databaseNameOf(uri: string, fallback = DEFAULT_DATABASE): string {
  const { pathname } = new ConnectionString(uri);
  const named = decodeURIComponent(pathname.replace(/^\//, ''));
  return named === '' ? fallback : named;
}

/**
 * The URI options that can carry a secret (compared in lower case, as the driver reads options):
 * authMechanismProperties may hold AWS_SESSION_TOKEN, the others are passwords.
 */
const SECRET_OPTIONS = new Set(['tlscertificatekeyfilepassword', 'sslpemkeypassword', 'proxypassword', 'authmechanismproperties']);

/** The URI without its credentials (password, secret-bearing options), for logs and errors; a URI the parser refuses keeps only its scheme. */
export function redactUri(uri: string): string {
  try {
    const parsed = new ConnectionString(uri);
    if (parsed.password !== '') parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) {
      if (SECRET_OPTIONS.has(name.toLowerCase())) parsed.searchParams.set(name, '***');
    }
    return parsed.toString();
  } catch {
    const scheme = /^mongodb(\+srv)?:\/\//.exec(uri)?.[0] ?? '';
    return `${scheme}(unparseable)`;
  }
}
