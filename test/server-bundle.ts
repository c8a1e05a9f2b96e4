// Builds the server once per test run into dist/test-server.js, as `npm run build:server` builds the
// dist/server.js that `npm start` runs, for the suites that run the server as its own process (kill it,
// restart it). Starting the bundle takes a third less CPU than starting the TypeScript through tsx, which
// on a busy 2-core machine was the difference between a restart in 5 s and one past 15 s.
import { build } from 'esbuild';
import { SERVER_BUNDLE } from './child-server';

export default async function setup(): Promise<void> {
  await build({
    entryPoints: ['server/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: SERVER_BUNDLE,
    logLevel: 'warning',
  });
}
