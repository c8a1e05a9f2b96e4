// Finds a MongoDB for the tests that need one, once per run: MONGODB_URI when set, else a replica set
// from mongodb-memory-server (it downloads a mongod on first use, so it needs the internet once), with
// test commands on (the fail points of test/mongo-faults.test.ts) and MONGODB_TEST_MEMBERS members (1 by
// default; 3 runs the step-down test). When neither answers, those tests are skipped and say why; they
// never fall back to a fake.
import type { TestProject } from 'vitest/node';

export interface MongoForTests {
  /** Where to connect; undefined when no MongoDB could be had. */
  uri?: string;
  /** Why the MongoDB tests are skipped, when they are. */
  skip?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongo: MongoForTests;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MONGODB_URI) {
    project.provide('mongo', { uri: process.env.MONGODB_URI });
    return async () => undefined;
  }
  // mongodb-memory-server reports a failed start on the console itself, at length: one line here instead.
  const warn = console.warn;
  const error = console.error;
  console.warn = () => undefined;
  console.error = () => undefined;
  try {
    const { MongoMemoryReplSet } = await import('mongodb-memory-server');
    const members = Number(process.env.MONGODB_TEST_MEMBERS ?? '1');
    const replSet = await MongoMemoryReplSet.create({
      replSet: { count: members, storageEngine: 'wiredTiger', args: ['--setParameter', 'enableTestCommands=1'] },
    });
    console.warn = warn;
    console.error = error;
    console.log(`[mongo] MONGODB_URI is not set: using a mongodb-memory-server replica set at ${replSet.getUri()}`);
    project.provide('mongo', { uri: replSet.getUri() });
    return async () => {
      await replSet.stop();
    };
  } catch (failure) {
    console.warn = warn;
    console.error = error;
    const reason =
      'MONGODB_URI is not set and mongodb-memory-server could not start a mongod ' +
      `(${oneLine(failure)}); set MONGODB_URI to a MongoDB replica set to run these tests`;
    project.provide('mongo', { skip: reason });
    return async () => undefined;
  }
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
