// Links in messages: the whole URL is the link (a Wikipedia title's closing parenthesis too), the full stop
// after it is not, bare domains link, and markup around a URL stays text.
import { expect, joinChat, sendMessage, shot, storedMessage, test } from './fixtures';

test('a link keeps its closing parenthesis, leaves the full stop out, and opens in a new tab', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Ana');

  const wiki = 'https://en.wikipedia.org/wiki/Chat_(disambiguation)';
  const local = `${parley.url}/wiki/Chat_(local)`;
  const first = `Which one? ${wiki} The guide is at https://example.org/docs/start.`;
  const second = `Or just example.com, or <b>https://example.net/x</b> from HTML; ours: ${local}.`;
  await sendMessage(page, first);
  await sendMessage(page, second);

  const links = page.locator('.messages a');
  await expect(storedMessage(page, first).locator('a')).toHaveText([wiki, 'https://example.org/docs/start']);
  await expect(storedMessage(page, second).locator('a')).toHaveText(['example.com', 'https://example.net/x', local]);
  expect(await links.evaluateAll((all) => all.map((a) => a.getAttribute('href')))).toEqual([
    wiki,
    'https://example.org/docs/start',
    'https://example.com/',
    'https://example.net/x',
    local,
  ]);
  for (const link of await links.all()) {
    await expect(link).toHaveAttribute('target', '_blank');
    await expect(link).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  }
  await shot(page, 'links');

  // Clicking a link opens the whole URL, parenthesis included, in a new tab (this server answers it).
  const [tab] = await Promise.all([page.waitForEvent('popup'), links.last().click()]);
  await expect.poll(() => tab.url()).toBe(local);
});
