// Search as a person uses it: a word typed in the top bar finds a message of another room among many, with
// the word marked; choosing it opens that room at the message, with the messages around it loaded.
import { expect, expectLive, joinChat, shot, test } from './fixtures';

test('search finds a word in another room and jumps to the message, with its context loaded', async ({ parley, openPage }) => {
  const { store } = parley.server;
  // #ops holds 150 messages; the one looked for is far back, out of the latest page the room opens with.
  for (let i = 1; i <= 150; i++) {
    const text = i === 40 ? 'The deploy of v2.3 went out at noon, no errors' : `status update number ${i}`;
    await store.append({ room: 'ops', clientId: `seed-ops-${String(i).padStart(4, '0')}`, author: i % 2 ? 'Ann' : 'Bo', text });
  }
  await store.append({ room: 'lobby', clientId: 'seed-lobby-0001', author: 'Bo', text: 'Are we **deploying** again on Friday?' });

  const { page } = await openPage();
  await joinChat(page, parley.url, 'Cy');
  await expectLive(page, 'live-ws');
  await page.getByRole('searchbox', { name: 'Search messages' }).fill('Deployed');
  await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');

  const results = page.locator('.search-result');
  await expect(results).toHaveCount(2);
  // Newest first, across rooms, with the matching words marked (a stem: "deployed" finds "deploy", "deploying").
  await expect(results.nth(0)).toContainText('#lobby');
  await expect(results.nth(0).locator('mark')).toHaveText('deploying');
  // As the reader sees the message: its Markdown marks are not shown.
  await expect(results.nth(0).locator('.search-result-text')).toHaveText('Are we deploying again on Friday?');
  await expect(results.nth(1)).toContainText('#ops');
  await expect(results.nth(1).locator('mark')).toHaveText('deploy');
  await shot(page, 'search-results');

  await results.nth(1).click();
  await expect(page).toHaveURL(/\/r\/ops$/);
  const found = page.locator('.group.found');
  await expect(found).toContainText('The deploy of v2.3 went out at noon');
  await expect(found).toBeInViewport();
  // Its context: the messages just before and after it, though the room's latest page would not hold them.
  await expect(page.locator('.messages.context')).toContainText('status update number 39');
  await expect(page.locator('.messages.context')).toContainText('status update number 41');
  await expect(page.locator('.search-panel')).toHaveCount(0);
  await shot(page, 'search-jump');

  // Back to the latest messages: the live room as before.
  await page.getByRole('button', { name: 'Back to the latest messages' }).click();
  await expect(page.locator('.messages.context')).toHaveCount(0);
  await expect(page.getByText('status update number 150')).toBeVisible();
});

test('on a phone, the search box fits the top bar beside the room name, and Escape closes the results', async ({ parley, openPage }) => {
  const { page } = await openPage({ viewport: { width: 390, height: 844 } });
  await joinChat(page, parley.url, 'Cy');
  await expectLive(page);
  const { store } = parley.server;
  await store.append({ room: 'lobby', clientId: 'seed-lobby-0001', author: 'Bo', text: 'Lunch at the café on Friday?' });
  await store.append({ room: 'ops', clientId: 'seed-ops-0001', author: 'Ann', text: 'Friday: deploy freeze from noon' });
  const box = page.getByRole('searchbox', { name: 'Search messages' });
  await expect(box).toBeInViewport({ ratio: 1 });
  await box.fill('friday');
  await box.press('Enter');
  await expect(page.locator('.search-result')).toHaveCount(2);
  await expect(page.locator('.search-result mark')).toHaveText(['Friday', 'Friday']);
  await shot(page, 'search-phone');
  await page.keyboard.press('Escape');
  await expect(page.locator('.search-panel')).toHaveCount(0);
});
