// What every spec gets: its own Parley, started in-process on a free port with a fresh data dir and
// closed afterwards, browser contexts that are closed before that server stops, and helpers that act
// as a user does (pick a nickname, type a message, press Enter).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from '@playwright/test';
import { startServer, type ParleyServer } from '../server/app';
import { loadConfig } from '../server/config';
import { assertClientBuilt, clientDir } from './paths';

export { expect };

export interface Parley {
  /** http://127.0.0.1:<port> of the running server. */
  readonly url: string;
  readonly dataDir: string;
  readonly server: ParleyServer;
  /**
   * Stops the server (as SIGTERM does) and starts a new one on the same data dir. It gets a new port unless
   * `samePort` (then open pages can reconnect by themselves); `whileDown` runs between the two. Returns the
   * new url.
   */
  restart(options?: { samePort?: boolean; whileDown?: () => Promise<void> }): Promise<string>;
}

export interface Browsing {
  context: BrowserContext;
  page: Page;
}

interface Fixtures {
  parley: Parley;
  /** A new browser context (its own cookies and storage) with one page; closed at the end of the test. */
  openPage: (options?: BrowserContextOptions) => Promise<Browsing>;
}

export function startParley(dataDir: string, port = 0): Promise<ParleyServer> {
  const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  return startServer(config, { clientDir });
}

export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern
  parley: async ({}, use) => {
    assertClientBuilt();
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
    let server = await startParley(dataDir);
    try {
      await use({
        get url() {
          return server.url;
        },
        dataDir,
        get server() {
          return server;
        },
        async restart({ samePort = false, whileDown } = {}) {
          const port = server.port;
          await server.close();
          await whileDown?.();
          server = await startParley(dataDir, samePort ? port : 0);
          return server.url;
        },
      });
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },

  // Depends on `parley` so that the contexts close before the server does.
  openPage: async ({ browser, parley: _parley }, use) => {
    const contexts: BrowserContext[] = [];
    const pageErrors: string[] = [];
    await use(async (options = {}) => {
      const context = await browser.newContext(options);
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
      return { context, page };
    });
    await Promise.all(contexts.map((context) => context.close()));
    expect(pageErrors, 'uncaught errors in the pages').toEqual([]);
  },
});

/** The connection indicator in the header. */
export function connectionStatus(page: Page): Locator {
  return page.locator('[role=status][data-state]');
}

/** Waits until the page hears from the server: over WebSocket, long-poll, or (by default) either. */
export async function expectLive(page: Page, state?: 'live-ws' | 'live-poll', timeout = 10_000): Promise<void> {
  await expect(connectionStatus(page)).toHaveAttribute('data-state', state ?? /^live-(ws|poll)$/, { timeout });
}

export function roomPath(room?: string): string {
  return room === undefined || room === 'lobby' ? '/' : `/r/${room}`;
}

/** Opens the room (default: the lobby at /), picks a nickname, and waits until the page is live. */
export async function joinChat(page: Page, url: string, nick: string, room?: string): Promise<void> {
  await page.goto(url + roomPath(room));
  await page.locator('#nick').fill(nick);
  await page.locator('#nick').press('Enter');
  await expectLive(page);
}

/** The password every account of the specs signs up with. */
export const TEST_PASSWORD = 'correct horse battery';

/**
 * Opens `path` (default: the lobby), signs up as `username` there (or signs in, with `tab`), and waits until
 * the page is live.
 */
export async function signUpAt(page: Page, url: string, username: string, path = '/', tab: 'Sign up' | 'Sign in' = 'Sign up'): Promise<void> {
  await page.goto(url + path);
  await page.getByRole('tab', { name: tab }).click();
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(TEST_PASSWORD);
  await page.locator('#password').press('Enter');
  await expectLive(page);
}

/** Where screenshots go: the run's output, or SHOTS_DIR to keep them (a note's pictures). */
export function shotsDir(): string {
  return process.env.SHOTS_DIR ?? `${test.info().project.outputDir}/screenshots`;
}

/** Saves a screenshot of `page` as `name`.png in shotsDir(). */
export function shot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: `${shotsDir()}/${name}.png` });
}

/** The messages the server has stored, as the page shows them (not the greyed ones still on their way). */
export function storedMessages(page: Page): Locator {
  return page.locator('.messages [data-seq]');
}

/** The stored message with exactly this text. */
export function storedMessage(page: Page, text: string): Locator {
  return storedMessages(page).filter({ hasText: exactly(text) });
}

/** The nickname shown over the group that holds this message. */
export function authorOf(page: Page, text: string): Locator {
  return groupOf(page, text).locator('.author');
}

/** The group (one author's run of messages) that holds this stored message. */
export function groupOf(page: Page, text: string): Locator {
  // `has` is matched inside each group, so the inner locator must not start from `.messages`.
  return page.locator('.messages article.group').filter({ has: page.locator('[data-seq]').filter({ hasText: exactly(text) }) });
}

/**
 * Types a message and presses Enter. By default it then waits until the sender's page shows it as
 * stored (the server acknowledged it), so that the next message anyone sends comes after it.
 */
export async function sendMessage(page: Page, text: string, { waitForAck = true } = {}): Promise<void> {
  const input = page.locator('#composer-input');
  await input.fill(text);
  await input.press('Enter');
  await expect(input).toHaveValue('');
  if (waitForAck) await expect(storedMessage(page, text)).toHaveCount(1);
}

/** The texts of the stored messages the page shows, in order. */
export function messageTexts(page: Page): Promise<string[]> {
  return storedMessages(page).allInnerTexts();
}

function exactly(text: string): RegExp {
  // Any run of whitespace in the text matches any run on the page (a newline shows as a line break).
  const words = text.trim().split(/\s+/).map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^\\s*${words.join('\\s+')}\\s*$`);
}

/** A promise with its resolve on the outside, to hand control between a route handler and the test. */
export function deferred(): { promise: Promise<void>; resolve: () => void; readonly settled: boolean } {
  let resolve!: () => void;
  let settled = false;
  const promise = new Promise<void>((r) => {
    resolve = () => {
      settled = true;
      r();
    };
  });
  return {
    promise,
    resolve,
    get settled() {
      return settled;
    },
  };
}

/** Rejects with `what` if the promise has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
