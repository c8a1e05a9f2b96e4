// End-to-end tests: real Parley servers (started in-process by e2e/fixtures.ts, one per test, each on its
// own port and data dir) driven by a real Chromium. `npm run build` first: the server serves dist/client.
import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

/**
 * The system Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH) when it exists; otherwise undefined,
 * and e2e/global-setup.ts installs Playwright's own Chromium, which is then used.
 */
const systemChromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const executablePath = existsSync(systemChromium) ? systemChromium : undefined;

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  globalSetup: './e2e/global-setup.ts',
  reporter: 'list',
  // One test at a time: each drives up to five Chromium pages beside its own server, which is the whole of a
  // 2-core machine. Two at once were no faster here (151 s against 119 s for chat and rooms) and pushed the
  // heaviest specs past their time limit whenever anything else ran.
  fullyParallel: true,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
    actionTimeout: 10_000,
    navigationTimeout: 10_000,
    // A trace snapshots the page at every step: a third of the suite's time. PW_TRACE=1 records them again
    // (kept for the tests that fail), to look into a failure.
    trace: process.env.PW_TRACE ? 'retain-on-failure' : 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  projects: [{ name: 'chromium' }],
});
