// Password hashing with scrypt (node's crypto, that is OpenSSL's: no native module to build), memory-hard
// as OWASP's Password Storage cheat sheet asks. Hashes are stored in the PHC string format with their
// parameters, `$scrypt$ln=15,r=8,p=1$<salt>$<key>`, so that raising them later leaves old hashes readable.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** N = 2^15 (32 MiB of memory with r = 8), r = 8, p = 1: OWASP's minimum for scrypt, about 50 ms here. */
const COST_LOG2 = 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_BYTES = 64;
const SALT_BYTES = 16;
/** The most a stored hash may ask for, so that a tampered one cannot make a sign-in take gigabytes. */
const MAX_COST_LOG2 = 20;

/** A password's length bounds, in characters: NIST SP 800-63B's minimum, and a bound on the work per try. */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

/** The PHC string of a new random salt and the scrypt key of `password` (normalized with NFKC, as NIST advises). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, { N: 2 ** COST_LOG2, r: BLOCK_SIZE, p: PARALLELISM }, KEY_BYTES);
  return `$scrypt$ln=${COST_LOG2},r=${BLOCK_SIZE},p=${PARALLELISM}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `password` is the one `stored` was made from, compared in constant time. False for a malformed `stored`. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(stored);
  if (!match) return false;
  const [, ln, r, p, salt, key] = match as unknown as [string, string, string, string, string, string];
  const costLog2 = Number(ln);
  if (costLog2 < 1 || costLog2 > MAX_COST_LOG2) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), { N: 2 ** costLog2, r: Number(r), p: Number(p) }, expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function derive(password: string, salt: Buffer, options: { N: number; r: number; p: number }, keyBytes: number): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; node's default bound (32 MiB) is exactly that at N = 2^15, r = 8, so allow twice it.
  const scryptOptions: ScryptOptions = { ...options, maxmem: 256 * options.N * options.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyBytes, scryptOptions, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
