// A person who opens an address that is no page (a mistyped or outdated link) sees a page that says so, in
// the app's look, and is back in the lobby in one click; /r/ without a room name is the lobby itself.
import type { Page } from '@playwright/test';
import { expect, shot, test } from './fixtures';

/** What the Content-Security-Policy blocked on the page (Chromium reports it on the console). */
function blockedByCsp(page: Page): string[] {
  const blocked: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) blocked.push(message.text());
  });
  return blocked;
}

test('an address that is no page says so, and its link leads back to the lobby', async ({ parley, openPage }) => {
  const { page } = await openPage();
  const blocked = blockedByCsp(page);
  const response = await page.goto(`${parley.url}/nope`);
  expect(response?.status()).toBe(404);
  await expect(page).toHaveTitle('Page not found · Parley');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  // In the app's look: its stylesheet loaded, under the CSP.
  await expect(page.locator('.card')).toHaveCSS('border-radius', '14px');
  await shot(page, 'not-found');

  await page.getByRole('link', { name: 'Go to the lobby' }).click();
  await expect(page).toHaveURL(`${parley.url}/`);
  await expect(page.getByText('Pick a nickname to join #lobby.')).toBeVisible();
  expect(blocked).toEqual([]);
});

test('the page reads well in the dark on a phone, and the link works from the keyboard', async ({ parley, openPage }) => {
  const { page } = await openPage({ colorScheme: 'dark', viewport: { width: 390, height: 700 } });
  await page.goto(`${parley.url}/r/dev/settings`);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Go to the lobby' })).toBeFocused();
  await shot(page, 'not-found-dark-phone');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(`${parley.url}/`);
  await expect(page.getByText('Pick a nickname to join #lobby.')).toBeVisible();
});

test('/r/, a room address without a name, opens the lobby', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await page.goto(`${parley.url}/r/`);
  await expect(page).toHaveURL(`${parley.url}/`);
  await expect(page.getByText('Pick a nickname to join #lobby.')).toBeVisible();
});
