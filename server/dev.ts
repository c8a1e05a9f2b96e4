// `npm run dev`: the real server on :8888 with Vite in middleware mode, so the client hot-reloads
// while it talks to the real WebSocket, long-poll and store. Logs are pretty-printed.
import { createServer as createViteServer, type ViteDevServer } from 'vite';
import { startServer } from './app';
import { ConfigError, loadConfig, loadDotEnv } from './config';
import { createLogger } from './logger';
import { StartupError } from './startup-error';

async function dev(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config, true);
  let vite: ViteDevServer | undefined;
  const server = await startServer(config, {
    logger,
    clientDir: false,
    devCsp: true,
    beforeClient: async (app, httpServer) => {
      vite = await createViteServer({ server: { middlewareMode: true, hmr: { server: httpServer } }, appType: 'spa' });
      app.use(vite.middlewares);
    },
  });
  const stop = async () => {
    await server.close();
    await vite?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

dev().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof StartupError ? `parley: ${error.message}` : error);
  process.exit(1);
});
