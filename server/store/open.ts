// Picks the store from the config: MongoDB when asked for or when one answers locally, else embedded.
import type { Logger } from 'pino';
import type { Config } from '../config';
import { openEmbeddedStore } from './embedded';
import { openMongoStore, redactUri } from './mongo';
import type { Store } from './store';

/** Where STORE=auto looks for a MongoDB when MONGODB_URI is not set. */
export const LOCAL_MONGODB_URI = 'mongodb://127.0.0.1:27017/parley';

export async function openStore(config: Config, logger: Logger): Promise<Store> {
  if (config.store !== 'embedded') {
    const uri = config.mongodbUri ?? LOCAL_MONGODB_URI;
    const required = config.store === 'mongodb' || config.mongodbUri !== undefined;
    try {
      const store = await openMongoStore(uri, { serverSelectionTimeoutMS: required ? 5000 : 300, logger, instanceId: config.instanceId });
      logger.info(
        { store: 'mongodb', uri: redactUri(uri), replicaSet: store.replicaSet ?? null },
        store.replicaSet
          ? `Using MongoDB at ${redactUri(uri)} (replica set ${store.replicaSet}: instances share messages through a change stream)`
          : `Using MongoDB at ${redactUri(uri)} (standalone mongod: run a single instance, or use a replica set to run several)`,
      );
      return store;
    } catch (error) {
      if (required) throw error;
    }
  }
  const store = openEmbeddedStore(config.dataDir);
  logger.info(
    { store: 'embedded', dataDir: config.dataDir },
    `Using the embedded store in ${config.dataDir} (single process; set MONGODB_URI to use MongoDB)`,
  );
  return store;
}
