// Changing messages as people do (issue 17): edit in place, reply with a quote that jumps to the original,
// react, delete with a confirmation. Two browsers, one on WebSocket and one on long-poll, see each change
// live and again after a reload.
import type { Locator, Page } from '@playwright/test';
import { expect, expectLive, joinChat, sendMessage, shot, storedMessage, test } from './fixtures';

/** The row of the stored message with exactly this text (its actions, quote, reactions). */
function row(page: Page, text: string): Locator {
  const words = text.split(/\s+/).map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return page.locator('.messages .message').filter({ has: page.locator('[data-seq]', { hasText: new RegExp(`^\\s*${words.join('\\s+')}\\s*$`) }) });
}

async function act(page: Page, text: string, action: 'Reply' | 'React' | 'Edit' | 'Delete'): Promise<Locator> {
  const message = row(page, text);
  await message.hover();
  await message.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: action, exact: true }).click();
  return message;
}

test('an edit, a reply, a reaction and a delete reach a reader on WebSocket and one on long-poll, also after a reload', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const bob = await openPage();
  await bob.context.routeWebSocket(/\/ws$/, (ws) => void ws.close({ code: 4001, reason: 'blocked by a proxy' }));
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob.page, parley.url, 'Bob');
  await expectLive(bob.page, 'live-poll');
  await expectLive(alice, 'live-ws');
  const pages = [alice, bob.page];

  await sendMessage(alice, 'the release is on Fridya');
  await sendMessage(bob.page, 'ok, I will write the notes');
  await sendMessage(alice, 'lunch anyone?');

  // Edit in place: Enter saves; the mark shows on both pages.
  await act(alice, 'the release is on Fridya', 'Edit');
  const field = alice.getByRole('textbox', { name: 'Edit message' });
  await expect(field).toBeFocused();
  await field.fill('the release is on **Friday**');
  await shot(alice, 'changes-edit-in-place');
  await field.press('Enter');
  for (const page of pages) {
    await expect(row(page, 'the release is on Friday').locator('.edited')).toHaveText('(edited)');
    await expect(row(page, 'the release is on Friday').locator('strong')).toHaveText('Friday');
  }

  // Up in an empty composer edits your last message; Escape leaves it as it was.
  await alice.locator('#composer-input').press('ArrowUp');
  await expect(alice.getByRole('textbox', { name: 'Edit message' })).toHaveValue('lunch anyone?');
  await expect(alice.getByRole('textbox', { name: 'Edit message' })).toBeFocused();
  await alice.keyboard.press('Escape');
  await expect(alice.getByRole('textbox', { name: 'Edit message' })).toHaveCount(0);

  // The actions show for the keyboard too: a Tab onto them brings the toolbar up, without a pointer.
  await alice.mouse.move(0, 0);
  const toolbar = row(alice, 'ok, I will write the notes').getByRole('toolbar', { name: 'Message actions' });
  await expect(toolbar).toHaveCSS('opacity', '0');
  await toolbar.getByRole('button', { name: 'Reply' }).focus();
  await expect(toolbar).toHaveCSS('opacity', '1');
  await alice.keyboard.press('Tab');
  await expect(toolbar.getByRole('button', { name: 'React' })).toBeFocused();
  await alice.keyboard.press('Enter');
  await expect(toolbar.getByRole('button', { name: 'React with 👍' })).toBeFocused();
  await alice.keyboard.press('Escape');
  await expect(toolbar.getByRole('group', { name: 'Pick a reaction' })).toHaveCount(0);
  await expect(toolbar.getByRole('button', { name: 'React' })).toBeFocused();

  // Reply: the composer says to whom; the reply shows a quote of the original.
  await act(bob.page, 'the release is on Friday', 'Reply');
  await expect(bob.page.locator('.replying-to')).toContainText('Replying to Alice');
  await bob.page.locator('#composer-input').fill('great, Friday it is');
  await shot(bob.page, 'changes-reply-bar');
  await sendMessage(bob.page, 'great, Friday it is');
  for (const page of pages) {
    const quote = row(page, 'great, Friday it is').locator('.reply-quote');
    await expect(quote.locator('.reply-author')).toHaveText('Alice');
    await expect(quote.locator('.reply-excerpt')).toHaveText('the release is on Friday');
  }

  // React from the picker; the other person adds theirs by clicking the chip.
  const reacting = await act(alice, 'great, Friday it is', 'React');
  await expect(reacting.getByRole('button', { name: 'React with 🎉' })).toBeVisible();
  await shot(alice, 'changes-picker');
  await reacting.getByRole('button', { name: 'React with 🎉' }).click();
  const chipOf = (page: Page) => row(page, 'great, Friday it is').locator('.reaction:not(.add-reaction)');
  await expect(chipOf(bob.page)).toHaveText('🎉 1');
  await chipOf(bob.page).click();
  for (const page of pages) await expect(chipOf(page)).toHaveText('🎉 2');
  await expect(chipOf(bob.page)).toHaveAttribute('aria-pressed', 'true');
  await expect(chipOf(bob.page)).toHaveAttribute('title', 'Alice, you reacted with 🎉');
  await act(alice, 'ok, I will write the notes', 'React').then((m) => m.getByRole('button', { name: 'React with 👍' }).click());
  await expect(row(bob.page, 'ok, I will write the notes').locator('.reaction:not(.add-reaction)')).toHaveText('👍 1');
  // "+" beside the chips opens the same picker.
  await row(bob.page, 'ok, I will write the notes').hover();
  await row(bob.page, 'ok, I will write the notes').getByRole('button', { name: 'Add a reaction' }).click();
  await row(bob.page, 'ok, I will write the notes').getByRole('button', { name: 'React with ❤️' }).click();
  await expect(row(alice, 'ok, I will write the notes').locator('.reaction:not(.add-reaction)')).toHaveText(['👍 1', '❤️ 1']);

  // Delete asks first.
  const deleting = await act(alice, 'lunch anyone?', 'Delete');
  await deleting.getByRole('button', { name: 'Delete', exact: true }).click();
  for (const page of pages) {
    await expect(storedMessage(page, 'message deleted')).toHaveCount(1);
    await expect(page.getByText('lunch anyone?')).toHaveCount(0);
  }
  await shot(alice, 'changes-websocket');
  await shot(bob.page, 'changes-long-poll');

  // After a reload, the history shows every message as it now stands.
  for (const page of pages) {
    await page.reload();
    await expectLive(page);
    await expect(row(page, 'the release is on Friday').locator('.edited')).toHaveText('(edited)');
    await expect(row(page, 'great, Friday it is').locator('.reply-author')).toHaveText('Alice');
    await expect(chipOf(page)).toHaveText('🎉 2');
    await expect(storedMessage(page, 'message deleted')).toHaveCount(1);
    await expect(page.getByText('lunch anyone?')).toHaveCount(0);
  }
  await expect(chipOf(alice)).toHaveAttribute('aria-pressed', 'true');
  await alice.emulateMedia({ colorScheme: 'dark' });
  await shot(alice, 'changes-dark');
  await bob.page.setViewportSize({ width: 390, height: 720 });
  await row(bob.page, 'great, Friday it is').locator('.text').click();
  await shot(bob.page, 'changes-phone');
});

test('a reply\'s quote scrolls to the original, loading older pages to reach it', async ({ parley, openPage, playwright }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Alice');
  await sendMessage(page, 'the very first message');
  // Push the original two pages back (a page is 50): others send, each within their send burst.
  for (let person = 1; person <= 12; person++) {
    const others = await playwright.request.newContext({ baseURL: parley.url });
    expect((await others.post('/api/session', { data: { nick: `Filler ${person}` } })).ok()).toBe(true);
    for (let i = 1; i <= 10; i++) {
      const answer = await others.post('/api/rooms/lobby/messages', { data: { clientId: `filler-${person}-${i}-xyz`, text: `filler ${person}.${i}` } });
      expect(answer.status()).toBe(201);
    }
    await others.dispose();
  }
  const answer = await page.request.post(`${parley.url}/api/rooms/lobby/messages`, { data: { clientId: 'the-reply-01', text: 'replying to the start', replyTo: 1 } });
  expect(answer.status()).toBe(201);
  await page.reload();
  await expectLive(page);
  const quote = row(page, 'replying to the start').locator('.reply-quote');
  // Not loaded: the quote reads the one message from the server.
  await expect(quote.locator('.reply-excerpt')).toHaveText('the very first message');
  await expect(storedMessage(page, 'the very first message')).toHaveCount(0);
  await quote.click();
  await expect(storedMessage(page, 'the very first message')).toBeInViewport();
  await expect(page.locator('#message-1')).toBeFocused();
});

test('a reaction and an edit made offline show at once, and reach the others once back online', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const bob = await openPage();
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob.page, parley.url, 'Bob');
  await sendMessage(alice, 'anyone up for a walk?');
  await sendMessage(bob.page, 'in five minutes');

  await bob.context.setOffline(true);
  await act(bob.page, 'anyone up for a walk?', 'React').then((m) => m.getByRole('button', { name: 'React with 👍' }).click());
  await expect(row(bob.page, 'anyone up for a walk?').locator('.reaction:not(.add-reaction)')).toHaveText('👍 1');
  await act(bob.page, 'in five minutes', 'Edit');
  await bob.page.getByRole('textbox', { name: 'Edit message' }).fill('in ten minutes');
  await bob.page.getByRole('textbox', { name: 'Edit message' }).press('Enter');
  await expect(row(bob.page, 'in ten minutes').locator('.edited')).toHaveCount(1);
  await expect(row(alice, 'anyone up for a walk?').locator('.reaction:not(.add-reaction)')).toHaveCount(0);

  await bob.context.setOffline(false);
  await expect(row(alice, 'anyone up for a walk?').locator('.reaction:not(.add-reaction)')).toHaveText('👍 1');
  await expect(row(alice, 'in ten minutes').locator('.edited')).toHaveCount(1);
  // Once each: the outbox sent them once, and they show once on the sender's page too.
  await expect(row(bob.page, 'anyone up for a walk?').locator('.reaction:not(.add-reaction)')).toHaveText('👍 1');
});
