// How a domain's part of a store (accounts, rooms) meets the database: refused once the store is closed, and
// any failure turned into StoreUnavailableError (retryable), as the messages' part does.
import type { RootDatabase } from 'lmdb';
import { StoreUnavailableError } from './store';

/** Reads LMDB with `reader`, unless the store is closed. */
export function lmdbRead<T>(isClosed: () => boolean, reader: () => T): T {
  if (isClosed()) throw new StoreUnavailableError('the store is closed');
  try {
    return reader();
  } catch (error) {
    throw new StoreUnavailableError(`reading the embedded store failed: ${(error as Error).message}`);
  }
}

/** Runs `writer` in an LMDB write transaction: it sees no other write between its reads and its own writes. */
export async function lmdbWrite<T>(root: RootDatabase, isClosed: () => boolean, writer: () => T): Promise<T> {
  if (isClosed()) throw new StoreUnavailableError('the store is closed');
  try {
    return await root.transaction(writer);
  } catch (error) {
    throw new StoreUnavailableError(`writing to the embedded store failed: ${(error as Error).message}`);
  }
}

/** Runs a MongoDB `operation`, unless the store is closed. */
export async function mongoOperation<T>(isClosed: () => boolean, operation: () => Promise<T>): Promise<T> {
  if (isClosed()) throw new StoreUnavailableError('the store is closed');
  try {
    return await operation();
  } catch (error) {
    throw new StoreUnavailableError(`MongoDB failed: ${(error as Error).message}`);
  }
}
