// Mentions as people use them: "@" offers the room's people, the person named sees the message marked, a
// room in the background counts the mentions apart, and a hidden page notifies when the user opted in.
import type { Page } from '@playwright/test';
import { expect, expectLive, joinChat, roomPath, shot, signUpAt, storedMessage, test } from './fixtures';

/**
 * Makes the page able to pretend it is in the background (a test cannot put a tab behind another), and
 * records the notifications it shows while the browser's own Notification still does the work.
 */
async function observeNotifications(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const state = window as unknown as { hiddenForTest: boolean; shown: string[] };
    state.hiddenForTest = false;
    state.shown = [];
    Object.defineProperty(document, 'visibilityState', { get: () => (state.hiddenForTest ? 'hidden' : 'visible') });
    const Original = window.Notification;
    window.Notification = class extends Original {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        state.shown.push(`${title}: ${options?.body ?? ''}`);
      }
    };
  });
}

const shown = (page: Page) => page.evaluate(() => (window as unknown as { shown: string[] }).shown);

test('"@" offers the people in the room; the person named sees the mention marked', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const { page: bob } = await openPage();
  const { page: bo } = await openPage();
  await joinChat(bob, parley.url, 'Bob');
  await joinChat(bo, parley.url, 'Bo Li');
  await joinChat(alice, parley.url, 'Alice');
  await expect(alice.locator('.people-list li')).toHaveCount(3);

  const input = alice.locator('#composer-input');
  await input.pressSequentially('look @b');
  const options = alice.getByRole('listbox', { name: 'People to mention' }).getByRole('option');
  await expect(options).toHaveText(['@Bo Li', '@Bob']);
  await expect(options.first()).toHaveAttribute('aria-selected', 'true');
  await shot(alice, 'mention-picker');
  await input.press('ArrowDown');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  await input.press('Enter'); // picks, does not send
  await expect(input).toHaveValue('look @Bob ');
  await input.pressSequentially('at this');
  await input.press('Enter');
  await expect(input).toHaveValue('');

  // Escape closes the list and keeps the text; Enter then sends.
  await input.pressSequentially('thanks @Bo');
  await expect(options).toHaveText(['@Bo Li', '@Bob']);
  await input.press('Escape');
  await expect(options).toHaveCount(0);
  await input.press('Enter');

  const forBob = storedMessage(bob, 'look @Bob at this');
  await expect(forBob).toHaveClass(/\bmentions-me\b/);
  await expect(forBob.locator('.mention.me')).toHaveText('@Bob');
  await expect(storedMessage(bo, 'look @Bob at this')).not.toHaveClass(/\bmentions-me\b/);
  await expect(storedMessage(bo, 'look @Bob at this').locator('.mention')).toHaveText('@Bob');
  // "@Bo" typed whole mentions no one: "Bo Li" is the name, and "Bob" a longer one.
  await expect(storedMessage(bo, 'thanks @Bo').locator('.mention')).toHaveCount(0);
  await shot(bob, 'mention-seen');
});

test('a room in the background counts mentions apart, and a hidden page notifies when asked to', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const bob = await openPage();
  await observeNotifications(bob.page);
  await bob.context.grantPermissions(['notifications']);
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob.page, parley.url, 'Bob');

  // Opted in from the sidebar: the browser's permission is asked from that click.
  await bob.page.getByRole('button', { name: 'Notify me of mentions' }).click();
  await expect(bob.page.getByRole('button', { name: 'Notifying you of mentions' })).toHaveAttribute('aria-pressed', 'true');

  await bob.page.evaluate(() => ((window as unknown as { hiddenForTest: boolean }).hiddenForTest = true));
  await alice.locator('#composer-input').fill('@Bob the build is green');
  await alice.locator('#composer-input').press('Enter');
  await alice.locator('#composer-input').fill('no mention here');
  await alice.locator('#composer-input').press('Enter');
  await expect(storedMessage(bob.page, 'no mention here')).toHaveCount(1);
  expect(await shown(bob.page)).toEqual(['Alice mentioned you in #lobby: @Bob the build is green']);
  await bob.page.evaluate(() => ((window as unknown as { hiddenForTest: boolean }).hiddenForTest = false));

  // Bob moves to #dev; Alice mentions him twice in #lobby among other messages.
  await bob.page.goto(parley.url + roomPath('dev'));
  await expect(bob.page.locator('.room-list a[aria-current=page]')).toContainText('dev');
  for (const text of ['@Bob one', 'filler', '@bob two']) {
    await alice.locator('#composer-input').fill(text);
    await alice.locator('#composer-input').press('Enter');
    await expect(storedMessage(alice, text)).toHaveCount(1);
  }
  // Opening another room makes the sidebar look at the others at once.
  await bob.page.goto(parley.url + roomPath('ops'));
  const lobby = bob.page.locator('.room-list li', { hasText: 'lobby' });
  await expect(lobby.locator('.mention-badge')).toHaveText('@2');
  await expect(lobby.locator('.mention-badge')).toHaveAttribute('aria-label', '2 mentions of you');
  await expect(lobby.locator('.badge:not(.mention-badge)')).toHaveText('3');
  await shot(bob.page, 'mention-badge');
});

test('a hidden page notifies of a mention in another room and of a direct message, which it lists at once', async ({ parley, openPage }) => {
  const { page: ana } = await openPage();
  const bob = await openPage();
  await observeNotifications(bob.page);
  await bob.context.grantPermissions(['notifications']);
  await signUpAt(ana, parley.url, 'Ana', roomPath('lobby'));
  await signUpAt(bob.page, parley.url, 'Bob', roomPath('dev'));
  await bob.page.getByRole('button', { name: 'Notify me of mentions' }).click();
  await expect(bob.page.getByRole('button', { name: 'Notifying you of mentions and messages' })).toHaveAttribute('aria-pressed', 'true');
  // The lobby is on Bob's list (every page lists it), so its head is watched.
  await expect(bob.page.locator('.room-list a', { hasText: '# lobby' })).toBeVisible();
  await expectLive(bob.page, 'live-ws');
  await bob.page.evaluate(() => ((window as unknown as { hiddenForTest: boolean }).hiddenForTest = true));

  // A mention in the lobby, which Bob's page is not showing.
  await ana.locator('#composer-input').fill('@Bob can you look at the deploy?');
  await ana.locator('#composer-input').press('Enter');
  await expect.poll(() => shown(bob.page)).toEqual(['Ana mentioned you in #lobby: @Bob can you look at the deploy?']);

  // A direct message: Bob's sidebar lists it without a reload, with its unread count, and the page notifies.
  await ana.getByRole('button', { name: 'Message someone' }).click();
  await ana.getByLabel('Username to message').fill('bob');
  await ana.getByLabel('Username to message').press('Enter');
  await expect(ana).toHaveURL(/\/r\/~[a-z2-7]{20}$/);
  await expectLive(ana);
  await ana.locator('#composer-input').fill('lunch at noon?');
  await ana.locator('#composer-input').press('Enter');
  const dm = bob.page.locator('.private-rooms .room-list li');
  await expect(dm.locator('.room-name')).toHaveText(['@ Direct message with Ana']);
  await expect(dm.locator('.badge')).toHaveText('1');
  await expect.poll(() => shown(bob.page)).toEqual(['Ana mentioned you in #lobby: @Bob can you look at the deploy?', 'Ana sent you a message: lunch at noon?']);
  await shot(bob.page, 'dm-listed-and-notified');
});
