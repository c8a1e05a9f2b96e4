// Hostile text in a real browser: markup sent as messages, and as nicknames, reaches another person's page
// as inert text. Nothing runs (no dialog, no flag set), no element is injected, and the Content-Security-Policy
// reports no violation while the client works normally under it.
import type { ConsoleMessage, Page } from '@playwright/test';
import { authorOf, expect, joinChat, sendMessage, storedMessages, test } from './fixtures';

const PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  'javascript:alert(1)',
  '[x](javascript:alert(1))',
  '<a href="javascript:alert(1)">x</a>',
  '<iframe src=javascript:alert(1)>',
  '"><img src=x onerror=alert(1)>',
  '<math><mtext><img src=x onerror=alert(1)>',
  '<img src=x onerror="window.__xss=1">',
  '<style>body{display:none}</style>',
];

/** Nicknames with markup: the nickname alphabet has no '<', so the server refuses each with a clear error. */
const MARKUP_NICKS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>'];
/** Allowed, but shaped like an attack. */
const TRICKY_NICKS = ["x'onerror-alert.1", 'javascript'];

interface Watch {
  dialogs: string[];
  cspViolations: string[];
}

function watch(page: Page): Watch {
  const seen: Watch = { dialogs: [], cspViolations: [] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message: ConsoleMessage) => {
    if (/Content.Security.Policy/i.test(message.text())) seen.cspViolations.push(message.text());
  });
  return seen;
}

test('markup sent as messages and nicknames renders as inert text in another browser', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const { page: bob } = await openPage();
  const watches = [watch(alice), watch(bob)];

  // Markup as a nickname: refused by the server, with its reason shown in the form.
  await alice.goto(parley.url);
  for (const nick of MARKUP_NICKS) {
    await alice.locator('#nick').fill(nick);
    await alice.locator('#nick').press('Enter');
    await expect(alice.locator('#nick-error')).toContainText('A nickname uses letters, digits');
    await expect(alice.locator('#nick-error img, #nick-error script, #nick-error svg')).toHaveCount(0);
  }
  await alice.locator('#nick').fill(TRICKY_NICKS[0] ?? '');
  await alice.locator('#nick').press('Enter');
  await expect(alice.locator('.me-nick')).toHaveText(TRICKY_NICKS[0] ?? '');
  await joinChat(bob, parley.url, TRICKY_NICKS[1] ?? '');

  for (const text of PAYLOADS) await sendMessage(alice, text);
  await expect(storedMessages(bob)).toHaveText(PAYLOADS);
  await sendMessage(bob, 'javascript says hi');
  await expect(storedMessages(alice)).toHaveCount(PAYLOADS.length + 1);

  for (const page of [alice, bob]) {
    await expect(page.locator('.messages :is(img, script, svg, iframe, math, style, object, embed)')).toHaveCount(0);
    await expect(page.locator('.messages a')).toHaveCount(0); // no http(s) link among them: nothing is made clickable
    expect(await storedMessages(page).allTextContents()).toEqual([...PAYLOADS, 'javascript says hi']);
    await expect(authorOf(page, PAYLOADS[0] ?? '')).toHaveText(TRICKY_NICKS[0] ?? '');
    await expect(authorOf(page, 'javascript says hi')).toHaveText(TRICKY_NICKS[1] ?? '');
    await expect(page.locator('body')).toBeVisible();
    expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
  }
  // A round trip after everything rendered, so an onerror or onload handler would have had its chance.
  await sendMessage(bob, 'still nothing?');
  await expect(storedMessages(alice).last()).toHaveText('still nothing?');
  for (const seen of watches) {
    expect(seen.dialogs).toEqual([]);
    expect(seen.cspViolations).toEqual([]);
  }
});

test('the page is served with a strict Content-Security-Policy and works under it, with no violation', async ({ parley, openPage }) => {
  const { page } = await openPage();
  const seen = watch(page);
  const response = await page.goto(parley.url);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self';");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  await joinChat(page, parley.url, 'Ada');
  // Live over WebSocket: connect-src 'self' lets this page's own ws:// through in Chromium.
  await expect(page.locator('[role=status][data-state]')).toHaveAttribute('data-state', 'live-ws');
  await sendMessage(page, 'a link https://example.com/ok and colours');
  await expect(page.locator('.messages a')).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  // The author colour is set through the CSSOM, which style-src does not block.
  await expect(page.locator('.author').first()).toHaveAttribute('style', /color/);
  expect(seen.cspViolations).toEqual([]);
});
