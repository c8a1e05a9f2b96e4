// The server's unit and integration tests (`npx vitest run`). Browser tests live in e2e/ and run under
// Playwright, not here. Every integration test starts its own server on 127.0.0.1 with an ephemeral port
// and a fresh DATA_DIR, so test files run in parallel without sharing anything.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**', 'dist/**', 'client/**'],
    environment: 'node',
    // Finds a MongoDB (MONGODB_URI, or mongodb-memory-server) for the MongoDB suites, or the reason to skip them;
    // builds the server bundle that test/child-server.ts runs as its own process.
    globalSetup: ['test/mongo-setup.ts', 'test/server-bundle.ts'],
    // lmdb is a native addon: child processes isolate it more reliably than worker threads.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
