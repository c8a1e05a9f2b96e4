// Runs once before the suite: says which Chromium is used, installs Playwright's own when there is no
// system Chromium, and stops early (with one clear message) when the client has not been built.
import { execFileSync } from 'node:child_process';
import type { FullConfig } from '@playwright/test';
import { assertClientBuilt } from './paths';

export default function globalSetup(config: FullConfig): void {
  assertClientBuilt();
  const executablePath = config.projects[0]?.use.launchOptions?.executablePath;
  if (executablePath) {
    console.log(`e2e: using the system Chromium at ${executablePath}`);
    return;
  }
  const wanted = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  console.log(`e2e: no Chromium at ${wanted}; using Playwright's own Chromium (npx playwright install chromium)`);
  execFileSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
}
