// Read markers across devices: an account that read a room on its laptop opens it on its phone at the same
// place, with a "new messages" line before what came since, and the same unread count in the sidebar.
import type { Page } from '@playwright/test';
import { expect, expectLive, joinChat, sendMessage, shot, signUpAt, storedMessage, test } from './fixtures';

/** Resolves when the page has told the server it read `room` up to `seq`. */
function markerSent(page: Page, room: string, seq: number): Promise<unknown> {
  return page.waitForResponse(async (response) => {
    if (response.request().method() !== 'PUT' || !response.url().endsWith(`/api/rooms/${room}/read`)) return false;
    return ((await response.json()) as { seq: number }).seq === seq;
  });
}

test('a second device opens a room where the first stopped reading, with a new-messages line and the same unread count', async ({ parley, openPage }) => {
  const { page: bob } = await openPage();
  await joinChat(bob, parley.url, 'Bob', 'news');
  for (const text of ['old one', 'old two', 'old three']) await sendMessage(bob, text);

  const { page: laptop } = await openPage();
  const readThree = markerSent(laptop, 'news', 3);
  await signUpAt(laptop, parley.url, 'Tess', '/r/news');
  await expect(storedMessage(laptop, 'old three')).toBeVisible();
  await readThree;
  // Nothing was unread on a first visit: no line.
  await expect(laptop.locator('.new-messages-line')).toHaveCount(0);
  await laptop.goto(`${parley.url}/r/lobby`);
  await expectLive(laptop);

  for (const text of ['new one', 'new two']) await sendMessage(bob, text);
  // Pushed to the laptop's sidebar as they come (its next poll is a minute away).
  const laptopNews = laptop.locator('.room-list a', { hasText: '# news' });
  await expect(laptopNews.locator('.badge')).toHaveText('2');

  // The phone never opened #news: its sidebar lists it from the server, with the two unread.
  const { page: phone } = await openPage();
  await signUpAt(phone, parley.url, 'Tess', '/r/lobby', 'Sign in');
  const news = phone.locator('.room-list a', { hasText: '# news' });
  await expect(news.locator('.badge')).toHaveText('2');

  const readFive = markerSent(phone, 'news', 5);
  await news.click();
  await expect(storedMessage(phone, 'new one')).toBeVisible();
  const line = phone.locator('.new-messages-line');
  await expect(line).toHaveCount(1);
  // The line stands between what the laptop read and what came since.
  const order = await phone.locator('.messages').evaluate((list) =>
    Array.from(list.querySelectorAll('.new-messages-line, [data-seq]'), (node) => (node.classList.contains('new-messages-line') ? 'line' : node.textContent)),
  );
  expect(order).toEqual(['old one', 'old two', 'old three', 'line', 'new one', 'new two']);
  await shot(phone, 'new-messages-line');
  await readFive;
  // Read on the phone: the laptop's count goes at once.
  await expect(laptopNews.locator('.badge')).toHaveCount(0);

  // Read up to 5 on the phone, then one more comes: the laptop counts 1 unread, not 3.
  await sendMessage(bob, 'newest');
  await laptop.reload();
  await expectLive(laptop);
  await expect(laptop.locator('.room-list a', { hasText: '# news' }).locator('.badge')).toHaveText('1');
});

test('a long unread stretch opens at the line, not at the bottom', async ({ parley, openPage }) => {
  // Bob's messages, stored as a send stores them (the store feeds the readers), faster than a person types.
  let sent = 0;
  const post = (text: string) => parley.server.store.append({ room: 'news', clientId: `seed-news-${String(++sent).padStart(4, '0')}`, author: 'Bob', text });
  for (let i = 1; i <= 12; i++) await post(`read ${i}\n\nsecond paragraph\n\nthird paragraph`);

  const { page: laptop } = await openPage();
  const readAll = markerSent(laptop, 'news', 12);
  await signUpAt(laptop, parley.url, 'Tess', '/r/news');
  await readAll;
  await laptop.goto(`${parley.url}/r/lobby`);
  await expectLive(laptop);
  for (let i = 1; i <= 12; i++) await post(`unread ${i}\n\nsecond paragraph\n\nthird paragraph`);

  await laptop.goto(`${parley.url}/r/news`);
  const first = laptop.locator('.messages [data-seq="13"]');
  await expect(first).toContainText('unread 1');
  await expect(laptop.locator('.new-messages-line')).toBeInViewport();
  await expect(first).toBeInViewport();
  await expect(laptop.locator('.messages [data-seq="24"]')).not.toBeInViewport();
  await shot(laptop, 'opened-at-the-line');
});
