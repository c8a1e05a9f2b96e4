// Accounts as a person uses them: sign up, sign in from a second browser, see both sessions, end the
// other one and watch that browser drop its socket and return to the sign-in screen. Guests are marked.
import type { Page, WebSocket } from '@playwright/test';
import { expect, expectLive, joinChat, sendMessage, shot, storedMessage, test } from './fixtures';

const PASSWORD = 'correct horse battery';

/** Fills the username and password of the open tab (Sign in or Sign up) and submits. */
async function submitAccount(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#password').press('Enter');
}

test('sign up, sign in from a second browser, see both sessions, end one: that browser drops its socket and is signed out', async ({ parley, openPage }) => {
  const { page: laptop } = await openPage();
  await laptop.goto(parley.url);
  await laptop.getByRole('tab', { name: 'Sign up' }).click();
  // A look-alike is refused beside the field it is about.
  await submitAccount(laptop, '\u0410lice');
  await expect(laptop.locator('#username-error')).toHaveText('A username cannot mix scripts: "А" is Cyrillic and "l" is Latin.');
  await expect(laptop.locator('#username')).toHaveAttribute('aria-invalid', 'true');
  await shot(laptop, 'sign-up-refused');
  await submitAccount(laptop, 'Alice');
  await expectLive(laptop, 'live-ws');
  await expect(laptop.locator('.me-nick')).toHaveText('Alice');

  const { page: phone } = await openPage({ userAgent: 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36' });
  const phoneSocket = phone.waitForEvent('websocket');
  await phone.goto(parley.url);
  await phone.getByRole('tab', { name: 'Sign in' }).click();
  await submitAccount(phone, 'alice', 'not the password');
  await expect(phone.locator('#form-error')).toHaveText('The username or the password is wrong.');
  await shot(phone, 'sign-in-refused');
  await submitAccount(phone, 'alice');
  await expectLive(phone, 'live-ws');
  await expect(phone.locator('.me-nick')).toHaveText('Alice');
  const socket: WebSocket = await phoneSocket;
  await sendMessage(phone, 'hello from the phone');
  await expect(storedMessage(laptop, 'hello from the phone')).toBeVisible();

  await laptop.getByRole('button', { name: 'Signed in as Alice · Account menu' }).click();
  const sessions = laptop.locator('.session-list li');
  await expect(sessions).toHaveCount(2);
  await expect(sessions.filter({ hasText: '(this browser)' })).toHaveCount(1);
  await expect(sessions.filter({ hasText: 'Chrome on Android' })).toHaveCount(1);
  await shot(laptop, 'session-list');

  const dropped = socket.waitForEvent('close');
  await laptop.getByRole('button', { name: 'End the session on Chrome on Android' }).click();
  await dropped;
  // Back to the first screen, offered to sign in again as who it was.
  await expect(phone.getByRole('tab', { name: 'Sign in', selected: true })).toBeVisible();
  await expect(phone.locator('#username')).toHaveValue('Alice');
  await expect(phone.locator('.me-nick')).toHaveCount(0);
  await expect(sessions).toHaveCount(1);
  await shot(phone, 'signed-out-by-revocation');

  // The laptop is still signed in, and signs itself out.
  await laptop.getByRole('button', { name: 'Sign out' }).click();
  await expect(laptop.getByRole('tab', { name: 'Sign in' })).toBeVisible();
  await laptop.reload();
  await expect(laptop.getByRole('tab', { name: 'Sign in', selected: true })).toBeVisible();
  await shot(laptop, 'sign-in');
});

test('guests are marked as guests beside their messages and in the people list; accounts are not', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  await alice.goto(parley.url);
  await alice.getByRole('tab', { name: 'Sign up' }).click();
  await submitAccount(alice, 'Alice');
  await expectLive(alice);
  const { page: bob } = await openPage();
  await joinChat(bob, parley.url, 'Bob');
  await sendMessage(alice, 'from the account');
  await sendMessage(bob, 'from the guest');
  for (const page of [alice, bob]) {
    await expect(page.locator('.messages article.group', { hasText: 'from the guest' }).locator('.guest-tag')).toHaveText('guest');
    await expect(page.locator('.messages article.group', { hasText: 'from the account' }).locator('.guest-tag')).toHaveCount(0);
    await expect(page.locator('.people-list li', { hasText: 'Bob' }).locator('.guest-tag')).toBeVisible();
    await expect(page.locator('.people-list li', { hasText: 'Alice' }).locator('.guest-tag')).toHaveCount(0);
  }
  // Someone else cannot be "Alice", nor "bob", as a guest.
  const { page: mallory } = await openPage();
  await mallory.goto(parley.url);
  await mallory.locator('#nick').fill('ALICE');
  await mallory.locator('#nick').press('Enter');
  await expect(mallory.locator('#nick-error')).toHaveText('"ALICE" looks too like "Alice", which an account has: pick another name.');
  await shot(bob, 'guest-tags');
  await shot(mallory, 'guest-name-refused');
});
