// `npm start`: reads the config, starts Parley, and stops it cleanly on SIGTERM or SIGINT.
import { startServer } from './app';
import { ConfigError, configHelp, loadConfig, loadDotEnv } from './config';
import { createLogger } from './logger';
import { StartupError } from './startup-error';
import { StoreUnavailableError } from './store/store';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(configHelp());
    return;
  }
  const dotEnv = loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config);
  if (dotEnv) logger.info('read settings from .env (the environment overrides them)');
  const server = await startServer(config, { logger });
  const stop = (signal: string) => {
    logger.info(`${signal}: finishing in-flight work and stopping`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError || error instanceof StoreUnavailableError) {
    console.error(`parley: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
