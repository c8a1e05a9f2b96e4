// How the MongoDB store reads the driver's errors: whether a failed insert stored anything for sure, what
// went wrong at start-up, and what kind of deployment a `hello` describes. Pure functions over the
// driver's own error classes, so that each decision is tested with the errors the driver really throws.
import {
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError,
  type Document,
} from 'mongodb';

export const DUPLICATE_KEY = 11000;
const UNAUTHORIZED = 13;
const AUTHENTICATION_FAILED = 18;
const INDEX_OPTIONS_CONFLICT = 85;
const INDEX_KEY_SPECS_CONFLICT = 86;

/**
 * What a failed insert of a batch means for its messages:
 * - `collision`: the first `inserted` are stored durably and the next lost a race on a unique key (a seq
 *   or a clientId another writer took): read again and retry the rest.
 * - `unknown`: nothing is known for sure. Some may be stored, and may still roll back (a write-concern
 *   failure), or may never have reached the server (a network error): none may be acked.
 */
export type WriteOutcome = { kind: 'collision'; inserted: number } | { kind: 'unknown'; reason: string };

/** Reads the error of an ordered insertMany (or a single insert). */
export function classifyWriteError(error: unknown): WriteOutcome {
  if (error instanceof MongoBulkWriteError) {
    // The driver wraps every failure in MongoBulkWriteError, a write-concern failure or a network error
    // included, with no writeErrors: only a duplicate key with the write concern met is a lost race.
    const writeConcernError = error.result?.getWriteConcernError();
    const { writeErrors } = error;
    const list = Array.isArray(writeErrors) ? writeErrors : [writeErrors];
    if (!writeConcernError && list.length > 0 && list.every((e) => e.code === DUPLICATE_KEY)) {
      return { kind: 'collision', inserted: error.insertedCount };
    }
    // The whole command refused with a duplicate key (ok: 0): nothing of it was written.
    if (!writeConcernError && list.length === 0 && error.code === DUPLICATE_KEY) return { kind: 'collision', inserted: error.insertedCount };
    const why = writeConcernError ? `write concern not met: ${writeConcernError.errmsg ?? writeConcernError.code}` : describeError(error);
    return { kind: 'unknown', reason: why };
  }
  if (error instanceof MongoWriteConcernError) return { kind: 'unknown', reason: `write concern not met: ${error.message}` };
  if (error instanceof MongoServerError && error.code === DUPLICATE_KEY && !error.errorResponse?.writeConcernError) {
    return { kind: 'collision', inserted: 0 };
  }
  return { kind: 'unknown', reason: describeError(error) };
}

/** How long to wait before attempt `attempt` (from 1) after losing a seq race: jittered, doubling to 100 ms. */
export function collisionDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(100, 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

export type Deployment = 'replicaSet' | 'sharded' | 'standalone';

/** The kind of deployment a `hello` answer describes: change streams need a replica set or a mongos. */
export function deploymentOf(hello: Document): Deployment {
  if (typeof hello.setName === 'string') return 'replicaSet';
  if (hello.msg === 'isdbgrid') return 'sharded';
  return 'standalone';
}

/** The start-up step that parses the URI: whatever fails there is the URI's fault. */
export const READING_URI = 'reading MONGODB_URI';

/** The start-up step that failed and why, in words an operator can act on. */
export function describeStartupError(step: string, error: unknown, where: string): string {
  return `MongoDB at ${where}: ${step} failed: ${explainStartupError(step, error)}`;
}

function explainStartupError(step: string, error: unknown): string {
  if (step === READING_URI || error instanceof MongoParseError) {
    return `MONGODB_URI is not a valid connection string (${describeError(error)})`;
  }
  if (error instanceof MongoServerError) {
    if (error.code === AUTHENTICATION_FAILED) {
      return `authentication failed: check the user, the password and authSource in MONGODB_URI (${error.message})`;
    }
    if (error.code === UNAUTHORIZED) return `the user is not allowed to do this: grant it readWrite on the database (${error.message})`;
    if (error.code === DUPLICATE_KEY) {
      return `a unique index cannot be built: the collection holds duplicates, so it was not written by Parley's rules (${error.message})`;
    }
    if (error.code === INDEX_OPTIONS_CONFLICT || error.code === INDEX_KEY_SPECS_CONFLICT) {
      return `an index of that name exists with other options: drop it and restart (${error.message})`;
    }
    return describeError(error);
  }
  if (error instanceof MongoServerSelectionError) {
    const reason = error.reason?.error ?? firstServerError(error);
    return `no MongoDB server answered in time${reason ? ` (${describeError(reason)})` : ` (${error.message})`}`;
  }
  if (error instanceof Error && /querySrv|querytxt|ENOTFOUND/i.test(error.message)) {
    return `the host name in MONGODB_URI does not resolve (${error.message})`;
  }
  return describeError(error);
}

/** The first error a server reported during selection, when the topology holds one. */
function firstServerError(error: MongoServerSelectionError): Error | undefined {
  for (const server of error.reason?.servers.values() ?? []) if (server.error) return server.error;
  return undefined;
}

/** The error's class, code name and message on one line. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = error instanceof MongoError && error.code !== undefined ? ` ${error instanceof MongoServerError && error.codeName ? error.codeName : error.code}` : '';
  const network = error instanceof MongoNetworkError ? ' (network)' : '';
  return `${error.name}${code}${network}: ${error.message}`;
}
