// Which store a server opens with STORE=auto: the embedded one at once when nothing listens where a local
// MongoDB would, and never silently the embedded one when something does listen there but does not work
// as a MongoDB (a slow or broken mongod): the start fails saying what it found and what to do.
import { createServer, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../server/config';
import { openStore } from '../server/store/open';
import { StoreUnavailableError } from '../server/store/store';
import { freePort } from './free-port';
import { tempDir } from './helpers';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function autoConfig() {
  return loadConfig({ PORT: '0', HOST: '127.0.0.1', STORE: 'auto', DATA_DIR: await tempDir(), LOG_LEVEL: 'silent' });
}

describe('STORE=auto', () => {
  it('opens the embedded store when nothing listens on the local MongoDB port', async () => {
    const store = await openStore(await autoConfig(), logger, { host: '127.0.0.1', port: await freePort() });
    cleanups.push(() => store.close());
    expect(store.kind).toBe('embedded');
  });

  it('refuses to start, saying what it found, when something listens there but does not answer as a MongoDB', async () => {
    // A server that takes connections and never answers: a mongod too slow to answer, or not a mongod at all.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const opening = openStore(await autoConfig(), logger, { host: '127.0.0.1', port });
    await expect(opening).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(opening).rejects.toThrow(`connecting failed: no MongoDB server answered in time`);
    await expect(opening).rejects.toThrow(`STORE=auto found a server on 127.0.0.1:${port}; set STORE=embedded to use the embedded store instead`);
  });
});
