// Picks the store from the config: MongoDB when asked for or when one listens locally, else embedded.
import { connect } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { openEmbeddedStore } from './embedded';
import { openMongoStore, redactUri } from './mongo';
import { StoreUnavailableError, type Store } from './store';

/** Where STORE=auto looks for a MongoDB when MONGODB_URI is not set. */
export const LOCAL_MONGODB = { host: '127.0.0.1', port: 27017 };
/** How long STORE=auto waits for a TCP answer on the local port: only "is anything there", not MongoDB itself. */
const LOCAL_PROBE_TIMEOUT_MS = 1000;

/** Opens the configured store; `local` is where STORE=auto looks for a MongoDB (tests point it elsewhere). */
export async function openStore(config: Config, logger: Logger, local = LOCAL_MONGODB): Promise<Store> {
  const uri = config.mongodbUri ?? `mongodb://${local.host}:${local.port}/parley`;
  const useMongo = config.store === 'mongodb' || (config.store === 'auto' && (config.mongodbUri !== undefined || (await somethingListens(local))));
  if (useMongo) {
    try {
      const store = await openMongoStore(uri, { logger, operationTimeoutMs: config.mongodbTimeoutMs });
      logger.info({ store: 'mongodb', uri: redactUri(uri), deployment: store.deployment, replicaSet: store.replicaSet ?? null }, startedMessage(uri, store.deployment, store.replicaSet));
      return store;
    } catch (error) {
      // STORE=auto found something on the local port: a MongoDB that fails is reported, never silently replaced.
      if (config.store === 'auto' && config.mongodbUri === undefined && error instanceof StoreUnavailableError) {
        throw new StoreUnavailableError(`${error.message} (STORE=auto found a server on ${local.host}:${local.port}; set STORE=embedded to use the embedded store instead)`);
      }
      throw error;
    }
  }
  const store = openEmbeddedStore(config.dataDir);
  logger.info(
    { store: 'embedded', dataDir: config.dataDir },
    `Using the embedded store in ${config.dataDir} (single process; set MONGODB_URI to use MongoDB)`,
  );
  return store;
}

function startedMessage(uri: string, deployment: string, replicaSet: string | undefined): string {
  const where = `Using MongoDB at ${redactUri(uri)}`;
  if (deployment === 'replicaSet') return `${where} (replica set ${replicaSet}: instances share messages through a change stream)`;
  if (deployment === 'sharded') return `${where} (sharded cluster through mongos: instances share messages through a change stream)`;
  return `${where} (standalone mongod: run a single instance, or use a replica set to run several)`;
}

/** Whether a TCP connection to `host:port` is accepted: a refusal is answered at once, so the embedded store starts without delay. */
function somethingListens({ host, port }: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (listens: boolean) => {
      socket.destroy();
      resolve(listens);
    };
    socket.setTimeout(LOCAL_PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
