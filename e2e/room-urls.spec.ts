// Room URLs a person types or is sent: a room's name spelled loosely opens that room under its own URL; a name
// that cannot be a room gets a page that says why and offers a way on, instead of the lobby under a wrong URL.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, expectLive, joinChat, sendMessage, shot, test } from './fixtures';

const roomTitle = (page: Page) => page.locator('h1.room-title');

test('/r/Dev opens #dev under /r/dev, fixed in place: Back goes to the page before', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Ana');
  await page.goto(`${parley.url}/r/Dev`);
  await expect(page).toHaveURL(`${parley.url}/r/dev`);
  await expect(roomTitle(page)).toHaveText('#dev');
  await expectLive(page);
  await sendMessage(page, 'in the real #dev');

  await page.goBack();
  await expect(page).toHaveURL(`${parley.url}/`);
  await expect(roomTitle(page)).toHaveText('#lobby');
});

test('a first visit to /r/has%20space says there is no such room, and offers #has-space, then the nickname form', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await page.goto(parley.url);
  await expect(page.getByRole('heading', { name: 'Parley' })).toBeVisible();
  await page.goto(`${parley.url}/r/has%20space`);

  await expect(page.getByRole('heading', { name: 'No such room' })).toBeVisible();
  await expect(page.locator('main')).toContainText('There is no room called “has space”: room names are lowercase letters, digits, - and _');
  await expect(page).toHaveURL(`${parley.url}/r/has%20space`);
  await expect(page).toHaveTitle('No such room · Parley');
  await expect(page.locator('#nick')).toHaveCount(0);
  const serious = (await new AxeBuilder({ page }).analyze()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => v.id)).toEqual([]);
  await shot(page, 'not-a-room');

  await page.getByRole('link', { name: 'Go to #has-space' }).click();
  await expect(page).toHaveURL(`${parley.url}/r/has-space`);
  await expect(page.locator('.welcome')).toContainText('Pick a nickname to join #has-space.');
  await page.locator('#nick').fill('Ana');
  await page.locator('#nick').press('Enter');
  await expect(roomTitle(page)).toHaveText('#has-space');
  await expect(page).toHaveTitle('#has-space · Parley');
  await expectLive(page);
  await sendMessage(page, 'found it');

  // The dead end was replaced, not stacked: Back returns to the page before it.
  await page.goBack();
  await expect(page).toHaveURL(`${parley.url}/`);
  await expect(roomTitle(page)).toHaveText('#lobby');
});

test('on a phone, a 41-character name is too long: the page offers its first 40, and the lobby', async ({ parley, openPage }) => {
  const { page } = await openPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await joinChat(page, parley.url, 'Mobi');
  const tooLong = 'project-apollo-guidance-computer-software';
  expect(tooLong).toHaveLength(41);
  await page.goto(`${parley.url}/r/${tooLong}`);
  await expect(page.getByRole('heading', { name: 'No such room' })).toBeVisible();
  await expect(page.locator('main')).toContainText('a room name has at most 40 characters, and this one has 41.');
  await expect(page.getByRole('link', { name: `Go to #${tooLong.slice(0, 40)}`, exact: true })).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBe(0);
  await shot(page, 'not-a-room-phone');

  await page.getByRole('link', { name: 'Go to #lobby' }).click();
  await expect(page).toHaveURL(`${parley.url}/`);
  await expect(roomTitle(page)).toHaveText('#lobby');
  await expectLive(page);
});

test('a name with nothing to make a room of offers only the lobby', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await page.goto(`${parley.url}/r/!!!`);
  await expect(page.locator('main')).toContainText('There is no room called “!!!”');
  await expect(page.locator('.card-actions a')).toHaveText(['Go to #lobby']);
});
