// What a message can do to the page (issue 14, item 8): a message of thousands of lines folds behind "Show
// more"; a link whose host could pass for another shows the host it goes to; direction controls in or
// around a URL cannot reorder what the link shows.
import type { Locator, Page } from '@playwright/test';
import { expect, joinChat, sendMessage, shot, storedMessage, storedMessages, test } from './fixtures';

/**
 * Whether the link's characters are laid out left to right as they are written: the first one left of
 * the last. A right-to-left override would lay them out mirrored.
 */
function readsLeftToRight(link: Locator): Promise<boolean> {
  return link.evaluate((a) => {
    const text = a.firstChild;
    if (!text || text.nodeType !== Node.TEXT_NODE) return false;
    const box = (from: number) => {
      const range = document.createRange();
      range.setStart(text, from);
      range.setEnd(text, from + 1);
      return range.getBoundingClientRect();
    };
    const length = text.textContent?.length ?? 0;
    return box(0).left < box(length - 1).left;
  });
}

/** Sends `text` to the lobby over HTTP, as a script would, from a session of its own. */
async function postAs(url: string, nick: string, text: string): Promise<void> {
  const session = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nick }) });
  const cookie = session.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  const sent = await fetch(`${url}/api/rooms/lobby/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ clientId: `long-${Date.now()}`, text }),
  });
  expect(sent.status).toBe(201);
}

test('a message of thousands of lines folds behind Show more, which the keyboard opens and closes', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Ana');
  await sendMessage(page, 'before the long one');
  // From another visitor: 1,990 lines of one character between two words, 4,000 characters (tens of
  // thousands of px unfolded). Blank lines would not do: Markdown folds a run of them into one break. Typed
  // into the composer, such a text took Chromium longer than a test may.
  const long = ['top', ...Array.from({ length: 1990 }, () => '.'), 'bottom'].join('\n');
  await postAs(parley.url, 'Mallory', long);
  const message = storedMessages(page).filter({ hasText: /^top/ });
  await expect(message).toHaveCount(1);
  await sendMessage(page, 'after the long one');

  const folded = (await message.boundingBox())?.height ?? Infinity;
  expect(folded).toBeLessThan(320);
  const toggle = page.getByRole('button', { name: 'Show more' });
  await expect(toggle).toHaveCount(1);
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  // The messages before and after it are both in view.
  await expect(storedMessage(page, 'before the long one')).toBeInViewport();
  await expect(storedMessage(page, 'after the long one')).toBeInViewport();
  await shot(page, 'folded-long-message');

  // By keyboard: the button takes the focus, Enter unfolds, Space folds again.
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: 'Show less' })).toHaveAttribute('aria-expanded', 'true');
  expect((await message.boundingBox())?.height).toBeGreaterThan(30_000);
  await expect(page.getByRole('button', { name: 'Show less' })).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.getByRole('button', { name: 'Show more' })).toBeVisible();
  expect((await message.boundingBox())?.height).toBe(folded);

  // A short message has no button.
  await expect(page.locator('.fold-toggle')).toHaveCount(1);
});

test('a link whose host mixes Cyrillic with Latin shows the punycode host it goes to', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Ana');
  // "аpple.com" with a Cyrillic а: it reads apple.com and goes to xn--pple-43d.com.
  const text = 'log in at https://\u0430pple.com/login or at https://bücher.de';
  await sendMessage(page, text, { waitForAck: false });
  const links = page.locator('.messages [data-seq] a');
  await expect(links).toHaveText(['https://xn--pple-43d.com/login', 'https://bücher.de']);
  expect(await links.evaluateAll((all) => all.map((a) => a.getAttribute('href')))).toEqual(['https://xn--pple-43d.com/login', 'https://xn--bcher-kva.de/']);
  await shot(page, 'mixed-script-link');
});

test('direction controls in or before a URL cannot reorder what its link shows', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Ana');
  // A right-to-left override inside the URL would show ".../moc.elgoog" as ".../google.com"; one before
  // it, in the text, would mirror the whole link. Then an Arabic message: shown right to left, as written.
  await sendMessage(page, 'see https://example.com/\u202Emoc.elgoog', { waitForAck: false });
  await sendMessage(page, '\u202Ebefore https://example.org/abc after', { waitForAck: false });
  await sendMessage(page, 'مرحبا بالجميع', { waitForAck: false });
  const links = page.locator('.messages [data-seq] a');
  await expect(links).toHaveText(['https://example.com/moc.elgoog', 'https://example.org/abc']);
  expect(await links.first().getAttribute('href')).toBe('https://example.com/%E2%80%AEmoc.elgoog');
  for (const link of await links.all()) expect(await readsLeftToRight(link)).toBe(true);
  await expect(storedMessage(page, 'مرحبا بالجميع')).toHaveCSS('direction', 'rtl');
  await shot(page, 'bidi-url');
});
