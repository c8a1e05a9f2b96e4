// Rough edges a new user hit (issue 13): where the keyboard goes, the phone layout, the first visit's
// console, the nickname form, the room list, and what a server restart announces. Each acts as a user.
import type { Page } from '@playwright/test';
import { authorOf, expect, expectLive, joinChat, sendMessage, shot, storedMessage, test } from './fixtures';

const sidebarRoom = (page: Page, room: string) => page.locator('.room-list a', { hasText: `# ${room}` });

/** Types right away, wherever the keyboard is, and presses Enter: the message must be sent and stored. */
async function typeAndSend(page: Page, text: string): Promise<void> {
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
  await expect(storedMessage(page, text)).toHaveCount(1);
}

test('the composer has the keyboard after picking a nickname and after joining a room from the sidebar', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await page.goto(parley.url);
  await page.locator('#nick').fill('Ada');
  await page.locator('#nick').press('Enter');
  await expectLive(page);
  await typeAndSend(page, 'hello');

  // Joining a new room with the field in the sidebar.
  await page.locator('#room-switch').fill('Design Review');
  await page.locator('#room-switch').press('Enter');
  await expect(page).toHaveURL(/\/r\/design-review$/);
  await expectLive(page);
  await typeAndSend(page, 'in design');

  // Back to the lobby with its link.
  await sidebarRoom(page, 'lobby').click();
  await expect(page).toHaveURL(/\/$/);
  await expectLive(page);
  await typeAndSend(page, 'back in the lobby');
  await expect(page.locator('#composer-input')).toBeFocused();
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`on a 360 px phone (${colorScheme}) the header says who you are, and the open sidebar closes with Escape or a tap beside it`, async ({ parley, openPage }) => {
    const { page } = await openPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, colorScheme });
    await joinChat(page, parley.url, 'Adalberta Lovelace');
    await sendMessage(page, 'Hello from a small screen');

    // Who you are is in the header, shortened to fit, and the button that opens the account menu says so.
    const me = page.getByRole('button', { name: 'Signed in as Adalberta Lovelace (guest) · Account menu' });
    await expect(me).toBeVisible();
    await expect(me.locator('.me-nick')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Change', exact: true })).toHaveCount(0);
    await shot(page, `phone-header-${colorScheme}`);

    // Opening the sidebar dims the chat and puts the keyboard in it; Escape closes it and gives the keyboard back to ☰.
    const menu = page.getByRole('button', { name: 'Rooms and people' });
    const sidebar = page.locator('#sidebar');
    await menu.tap();
    await expect(sidebar).toBeVisible();
    await expect(page.locator('.backdrop')).toBeVisible();
    await expect(sidebar.locator(':focus')).toHaveCount(1);
    await shot(page, `phone-sidebar-open-${colorScheme}`);
    await page.keyboard.press('Escape');
    await expect(sidebar).toBeHidden();
    await expect(menu).toBeFocused();
    await expect(menu).toHaveAttribute('aria-expanded', 'false');

    // A tap on the dimmed chat beside it closes it too.
    await menu.tap();
    await expect(sidebar).toBeVisible();
    const box = await sidebar.boundingBox();
    if (!box) throw new Error('the open sidebar has no box');
    await page.touchscreen.tap(box.x + box.width + 20, box.y + box.height / 2);
    await expect(sidebar).toBeHidden();
    await expect(page.locator('.backdrop')).toBeHidden();

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
  });
}

test('a first visit logs no error in the console, before and after picking a nickname', async ({ parley, openPage }) => {
  const { page } = await openPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(parley.url);
  await expect(page.locator('#nick')).toBeVisible();
  await page.locator('#nick').fill('Ada');
  await page.locator('#nick').press('Enter');
  await expectLive(page);
  await sendMessage(page, 'first words');
  expect(errors).toEqual([]);
});

test('a refused nickname is explained in a plain sentence, and the corrected one goes through', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await page.goto(parley.url);
  await page.locator('#nick').fill('<Ada>');
  await page.locator('#nick').press('Enter');
  await expect(page.getByRole('alert')).toHaveText("A nickname uses letters, digits, spaces and . _ ' -, starting with a letter or digit.");
  await expect(page.locator('#nick')).toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'nick-refused');
  await page.locator('#nick').fill('Ada');
  await page.locator('#nick').press('Enter');
  await expectLive(page);
  await expect(page.locator('.me-nick')).toHaveText('Ada');
});

test('changing the nickname can be cancelled, with Cancel or Escape, back to the room as it was', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Ada');
  await sendMessage(page, 'before the change');
  await page.evaluate(() => Object.assign(window, { sameDocument: true }));
  // A guest changes nickname from the account menu under the name in the header.
  const change = async () => {
    await page.getByRole('button', { name: 'Signed in as Ada (guest) · Account menu' }).click();
    await page.getByRole('button', { name: 'Change nickname' }).click();
  };

  await change();
  await expect(page.locator('#nick')).toBeFocused();
  await page.locator('#nick').fill('Somebody else');
  await shot(page, 'nick-change');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('.me-nick')).toHaveText('Ada');
  await expect(storedMessage(page, 'before the change')).toBeVisible();
  await expectLive(page);
  await typeAndSend(page, 'still Ada');
  await expect(authorOf(page, 'still Ada')).toHaveText('Ada');

  await change();
  await expect(page.locator('#nick')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.locator('.me-nick')).toHaveText('Ada');
  await expectLive(page);
  await typeAndSend(page, 'and still Ada');
  expect(await page.evaluate(() => 'sameDocument' in window)).toBe(true);

  // Saving a new one still works.
  await change();
  await page.locator('#nick').fill('Ada Two');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.me-nick')).toHaveText('Ada Two');
  await expectLive(page);
  await typeAndSend(page, 'as Ada Two');
  await expect(authorOf(page, 'as Ada Two')).toHaveText('Ada Two');
});

test('a room can be taken off the sidebar list; taking off the open one goes to the lobby', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Ada');
  for (const name of ['Design Review', 'typo-rom']) {
    await page.locator('#room-switch').fill(name);
    await page.locator('#room-switch').press('Enter');
    await expectLive(page);
  }
  const listed = page.locator('.room-list .room-name');
  await expect(listed).toHaveText(['# design-review', '# lobby', '# typo-rom']);
  // The lobby is always there: nothing to remove.
  await expect(page.getByRole('button', { name: 'Remove #lobby from the list' })).toHaveCount(0);

  // The × shows on hover, and takes the room off the list, for good.
  const removeDesign = page.getByRole('button', { name: 'Remove #design-review from the list' });
  await expect(removeDesign).toHaveCSS('opacity', '0');
  await sidebarRoom(page, 'design-review').hover();
  await expect(removeDesign).toHaveCSS('opacity', '1');
  await shot(page, 'room-remove-hover');
  await removeDesign.click();
  await expect(listed).toHaveText(['# lobby', '# typo-rom']);
  await expect(sidebarRoom(page, 'lobby')).toBeFocused();
  await page.reload();
  await expect(listed).toHaveText(['# lobby', '# typo-rom']);

  // By keyboard, the open room: the × shows on focus, and the page goes to the lobby.
  const removeTypo = page.getByRole('button', { name: 'Remove #typo-rom from the list' });
  await removeTypo.focus();
  await expect(removeTypo).toHaveCSS('opacity', '1');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/$/);
  await expect(listed).toHaveText(['# lobby']);
  await expectLive(page);
  await typeAndSend(page, 'back in the lobby');
});

test('a server restart does not announce that people left or joined when they only reconnected', async ({ parley, openPage }) => {
  test.setTimeout(60_000); // a restart, then a long-poll reader's backoff
  const { page: ana } = await openPage();
  const bob = await openPage();
  await ana.clock.install();
  // Bob's WebSockets are refused: he long-polls. While `bobAway`, his polls fail, as they do while a
  // restarted server is not back yet, so that he comes back to it after Ana, as a long-poll reader does.
  await bob.context.routeWebSocket(/\/ws$/, (ws) => void ws.close({ code: 4001, reason: 'blocked by proxy' }));
  let bobAway = false;
  await bob.context.route(
    (url) => url.pathname === '/wait' || url.pathname.endsWith('/people'),
    (route) => (bobAway ? route.abort('connectionrefused') : route.fallback()),
  );
  await joinChat(ana, parley.url, 'Ana');
  await joinChat(bob.page, parley.url, 'Bob');
  await expectLive(bob.page, 'live-poll');
  const people = ana.locator('.people-list li');
  await expect(people).toHaveText(['Ana guest (you)', 'Bob guest']);
  // Bob's real arrival is news. The line is set just after the list is drawn (an effect), so it is awaited
  // here: counted from now on, it would be taken for a notice of the restart.
  await expect(ana.locator('.typing-line')).toHaveText('Bob joined');

  // Every notice Ana's page shows from now on.
  await ana.evaluate(() => {
    const notices: string[] = [];
    const line = document.querySelector('.typing-line');
    if (!line) throw new Error('no notice line');
    new MutationObserver(() => line.textContent && notices.push(line.textContent)).observe(line, { childList: true, characterData: true, subtree: true });
    Object.assign(window, { notices });
  });
  const notices = () => ana.evaluate(() => (window as unknown as { notices: string[] }).notices);

  bobAway = true;
  await parley.restart({ samePort: true });
  // Ana is back first: the new server has not heard from Bob yet.
  await expect(people).toHaveText(['Ana guest (you)']);
  await expectLive(ana, 'live-ws');
  bobAway = false;
  await expect(people).toHaveText(['Ana guest (you)', 'Bob guest'], { timeout: 15_000 });

  // Someone who really arrives is still announced, once the page has let the others come back (10 s).
  const { page: cy } = await openPage();
  await joinChat(cy, parley.url, 'Cy');
  await expect(people).toHaveText(['Ana guest (you)', 'Bob guest', 'Cy guest']);
  await ana.clock.fastForward(10_000);
  await expect.poll(notices).toEqual(['Cy joined']);
});
