// A moderator's removal as the room sees it: the message is replaced by "message removed by a moderator" in
// every browser, one reading over WebSocket and one over long-poll, live and after a reload. And a session
// ended in one tab ends in the browser's other tabs at once.
import type { WebSocket } from '@playwright/test';
import { expect, expectLive, sendMessage, shotsDir, signUpAt, storedMessage, test } from './fixtures';

test('a moderator removes a message: a WebSocket reader and a long-poll reader show it removed, also after a reload', async ({ parley, openPage }) => {
  const { page: olga } = await openPage();
  const { page: pat } = await openPage();
  const quinn = await openPage();
  await quinn.context.routeWebSocket(/\/ws$/, (ws) => void ws.close({ code: 4001, reason: 'blocked by a proxy' }));
  // Olga writes the room's first message: she owns it.
  await signUpAt(olga, parley.url, 'Olga', '/r/town');
  await sendMessage(olga, 'Welcome to town');
  await signUpAt(pat, parley.url, 'Pat', '/r/town');
  await signUpAt(quinn.page, parley.url, 'Quinn', '/r/town');
  await expectLive(quinn.page, 'live-poll');
  await sendMessage(pat, 'Buy cheap stuff now at example.com');
  for (const page of [olga, quinn.page]) await expect(storedMessage(page, 'Buy cheap stuff now at example.com')).toBeVisible();

  const spam = olga.locator('.messages .message').filter({ hasText: 'Buy cheap stuff now' });
  await spam.hover();
  await spam.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Delete', exact: true }).click();
  await spam.getByRole('button', { name: 'Remove', exact: true }).click();

  for (const page of [olga, pat, quinn.page]) {
    await expect(page.getByText('message removed by a moderator')).toBeVisible();
    await expect(page.getByText('Buy cheap stuff now')).toHaveCount(0);
  }
  await quinn.page.screenshot({ path: `${shotsDir()}/removed-long-poll.png` });
  for (const page of [pat, quinn.page]) {
    await page.reload();
    await expect(storedMessage(page, 'Welcome to town')).toBeVisible();
    await expect(page.getByText('message removed by a moderator')).toBeVisible();
    await expect(page.getByText('Buy cheap stuff now')).toHaveCount(0);
  }
  await pat.screenshot({ path: `${shotsDir()}/removed-after-reload.png` });
});

test("signing out in one tab drops the other tab's socket and signs it out too", async ({ parley, openPage }) => {
  const { context, page: first } = await openPage();
  await signUpAt(first, parley.url, 'Rita');
  const second = await context.newPage();
  const socket = second.waitForEvent('websocket');
  await second.goto(parley.url);
  await expectLive(second, 'live-ws');
  await expect(second.locator('.me-nick')).toHaveText('Rita');
  const open: WebSocket = await socket;
  const closed = open.waitForEvent('close');

  await first.getByRole('button', { name: 'Signed in as Rita · Account menu' }).click();
  await first.getByRole('button', { name: 'Sign out' }).click();
  await closed;
  await expect(second.getByRole('tab', { name: 'Sign in', selected: true })).toBeVisible();
  await expect(second.locator('.me-nick')).toHaveCount(0);
});
