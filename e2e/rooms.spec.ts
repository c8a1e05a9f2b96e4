// What makes it a chat people would choose: rooms with unread counts, scroll-back through a long history,
// who is here and who is typing, times that read naturally, a phone layout, the keyboard, and a page a
// screen reader can use. Each saves a screenshot under the test output folder.
import AxeBuilder from '@axe-core/playwright';
import type { Page, WebSocketRoute } from '@playwright/test';
import { expect, expectLive, joinChat, sendMessage, shot, storedMessage, storedMessages, test } from './fixtures';

const sidebarRoom = (page: Page, room: string) => page.locator('.room-list a', { hasText: `# ${room}` });
const people = (page: Page) => page.locator('.people-list li');

test('rooms: join one by name, see unread counts for the others, and the tab title while in the background', async ({ parley, openPage }) => {
  const { page: ana } = await openPage();
  const { page: bob } = await openPage();
  await ana.clock.install();
  await joinChat(ana, parley.url, 'Ana');

  // Join (create) a room by typing its name: it gets its own URL and its place in the sidebar.
  await ana.locator('#room-switch').fill('Design Review');
  await ana.locator('#room-switch').press('Enter');
  await expect(ana).toHaveURL(/\/r\/design-review$/);
  await expect(ana.locator('h1.room-title')).toHaveText('#design-review');
  await expect(sidebarRoom(ana, 'design-review')).toHaveAttribute('aria-current', 'page');
  await expectLive(ana);
  await sendMessage(ana, 'first in design');

  // Back to the lobby from the sidebar; Bob writes in #design-review meanwhile.
  await sidebarRoom(ana, 'lobby').click();
  await expect(ana).toHaveURL(/\/$/);
  await expectLive(ana);
  await joinChat(bob, parley.url, 'Bob', 'design-review');
  await sendMessage(bob, 'second in design');
  await sendMessage(bob, 'third in design');
  await ana.clock.runFor(11_000); // the sidebar asks the server every 10 s
  await expect(sidebarRoom(ana, 'design-review').locator('.badge')).toHaveText('2');
  await shot(ana, 'rooms-unread');

  // Opening it shows the messages and clears the count.
  await sidebarRoom(ana, 'design-review').click();
  await expect(storedMessage(ana, 'third in design')).toHaveCount(1);
  await expect(sidebarRoom(ana, 'design-review').locator('.badge')).toHaveCount(0);

  // In the background, the tab title counts what arrives; in front again, it does not.
  await expect(ana).toHaveTitle('#design-review · Parley');
  await setVisibility(ana, 'hidden');
  await sendMessage(bob, 'while you were away');
  await sendMessage(bob, 'and another');
  await expect(ana).toHaveTitle('(2) #design-review · Parley');
  await setVisibility(ana, 'visible');
  await expect(ana).toHaveTitle('#design-review · Parley');
});

test('history: a room of 100,000 messages opens on its latest page and scrolls back without gaps or repeats', async ({ parley, openPage }) => {
  test.setTimeout(90_000);
  const total = 100_000;
  const { store } = parley.server;
  for (let from = 1; from <= total; from += 2000) {
    await Promise.all(
      Array.from({ length: Math.min(2000, total - from + 1) }, (_, i) =>
        store.append({ room: 'archive', clientId: `seed-${from + i}`, author: i % 3 ? 'Ana' : 'Bob', text: `message ${from + i}` }),
      ),
    );
  }
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Reader', 'archive');
  await expect(storedMessage(page, `message ${total}`)).toBeVisible();
  const shown = () => storedMessages(page).evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));
  const firstPage = await shown();
  expect(firstPage.at(-1)).toBe(total);

  // Scroll to the top: the next older page comes by itself, and the message that was on top stays in view.
  const oldestShown = firstPage[0] as number;
  const messages = page.locator('.messages');
  await messages.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect.poll(async () => (await shown()).length).toBeGreaterThan(firstPage.length);
  await expect(storedMessage(page, `message ${oldestShown}`)).toBeInViewport();
  // Twice more, by keyboard this time (the button for those who do not scroll).
  for (let i = 0; i < 2; i++) {
    const before = (await shown()).length;
    await page.locator('.load-older').focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await shown()).length).toBeGreaterThan(before);
  }
  const seqs = await shown();
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
  expect(seqs.at(-1)).toBe(total);

  // New messages while scrolled up: a "jump to latest" button, which takes you down.
  await messages.evaluate((el) => el.scrollTo({ top: 0 }));
  const { page: other } = await openPage();
  await joinChat(other, parley.url, 'Writer', 'archive');
  await sendMessage(other, 'while you read the archive');
  // Older pages loaded while scrolling up are not "new": only the one that arrived is.
  await expect(page.locator('button.jump')).toHaveText('1 new message ↓');
  await shot(page, 'history-jump');
  await page.locator('button.jump').click();
  await expect(storedMessage(page, 'while you read the archive')).toBeInViewport();
});

test('presence and typing: who is here over WebSocket and long-poll, who is typing, who left', async ({ parley, openPage }) => {
  const { page: ana } = await openPage();
  const bob = await openPage();
  const cy = await openPage();
  await cy.context.routeWebSocket(/\/ws$/, (ws: WebSocketRoute) => void ws.close({ code: 4001, reason: 'blocked by proxy' }));

  await joinChat(ana, parley.url, 'Ana');
  await joinChat(bob.page, parley.url, 'Bob');
  await joinChat(cy.page, parley.url, 'Cy');
  await expectLive(cy.page, 'live-poll');
  // Everyone is listed, long-poll readers too, and the page says who you are.
  await expect(people(ana)).toHaveText(['Ana guest (you)', 'Bob guest', 'Cy guest']);
  // Arrivals are said in passing, not written into the log.
  await expect(ana.locator('.typing-line')).toHaveText('Cy joined');
  await expect(people(cy.page)).toHaveText(['Ana guest', 'Bob guest', 'Cy guest (you)'], { timeout: 10_000 });
  await expect(ana.locator('#people-heading')).toHaveText('Here now (3)');

  // Bob types: Ana sees it at once, Cy (long-poll) within a few seconds; nothing goes into the log.
  await bob.page.locator('#composer-input').pressSequentially('hello every', { delay: 20 });
  await expect(ana.locator('.typing-line')).toHaveText('Bob is typing…');
  await expect(cy.page.locator('.typing-line')).toHaveText('Bob is typing…', { timeout: 10_000 });
  await expect(bob.page.locator('.typing-line')).toHaveText(''); // not about yourself
  await shot(ana, 'typing');
  await bob.page.locator('#composer-input').press('Enter');
  await expect(storedMessage(ana, 'hello every')).toHaveCount(1);
  await expect(ana.locator('.typing-line')).toHaveText('');

  // Cy types over HTTP; Ana sees it.
  await cy.page.locator('#composer-input').pressSequentially('hi', { delay: 20 });
  await expect(ana.locator('.typing-line')).toHaveText('Cy is typing…');

  // Bob closes his tab: he is gone from the list; the log has only the one message.
  await bob.context.close();
  await expect(people(ana)).toHaveText(['Ana guest (you)', /^Cy/]);
  await expect(storedMessages(ana)).toHaveCount(1);
});

test('messages: relative times with the exact time on hover; Enter sends, Shift+Enter starts a new line', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await page.clock.install();
  await joinChat(page, parley.url, 'Ana');
  const input = page.locator('#composer-input');
  await input.pressSequentially('first line');
  await input.press('Shift+Enter');
  await input.pressSequentially('second line');
  await expect(storedMessages(page)).toHaveCount(0);
  await input.press('Enter');
  await expect(storedMessages(page)).toHaveCount(1);
  expect(await storedMessages(page).first().innerText()).toBe('first line\nsecond line');

  const time = page.locator('.group-header time').first();
  await expect(time).toHaveText('just now');
  await expect(time).toHaveAttribute('title', new RegExp(String(new Date(await page.evaluate(() => Date.now())).getFullYear())));
  await page.clock.runFor(5 * 60_000 + 31_000); // relative times are redrawn every 30 s
  await expect(time).toHaveText('5 min ago');
  await shot(page, 'relative-time');
});

test('on a 375 px phone the sidebar folds behind a menu button, and rooms and people are a tap away', async ({ parley, openPage }) => {
  const { page } = await openPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await joinChat(page, parley.url, 'Mobi');
  await expect(page.locator('#sidebar')).toBeHidden();
  const menu = page.getByRole('button', { name: 'Rooms and people' });
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await expect(page.locator('#sidebar')).toBeVisible();
  await expect(people(page)).toHaveText(['Mobi guest (you)']);
  await shot(page, 'phone-sidebar');
  await page.locator('#room-switch').fill('pocket');
  await page.locator('#room-switch').press('Enter');
  await expect(page).toHaveURL(/\/r\/pocket$/);
  await expect(page.locator('#sidebar')).toBeHidden();
  await expectLive(page);
  await sendMessage(page, 'typed on a phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBe(0);
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`accessibility (${colorScheme}): no serious axe violations, labelled controls, messages in a log region`, async ({ parley, openPage }) => {
    const { page: other } = await openPage();
    const { page } = await openPage({ colorScheme });
    await joinChat(other, parley.url, 'Bo');
    await sendMessage(other, 'Welcome! See https://example.com/guide for the rules.');
    await joinChat(page, parley.url, 'Ana');
    await sendMessage(page, 'Thanks, reading it now.');
    await expect(page.locator('[role=log]')).toHaveAttribute('aria-label', 'Messages in #lobby');
    await expect(page.getByLabel('Message #lobby')).toBeFocused();
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    await shot(page, `a11y-${colorScheme}`);
  });
}

/** What the browser does when the tab goes to the background or comes back. */
async function setVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  await page.evaluate((next) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => next });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => next === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}
