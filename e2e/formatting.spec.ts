// Markdown in messages, as people type it: formatted alike on another person's page over WebSocket and over
// long-poll, Shift+Enter for a new line, a copy button on code, and Markdown-shaped attacks left inert.
import type { Page } from '@playwright/test';
import { expect, expectLive, joinChat, shot, storedMessages, test } from './fixtures';

const RELEASE_NOTE = [
  '**Release** is _today_, ~~tomorrow~~ at `v2.1`',
  '> the plan holds',
  '- build',
  '- ship',
  '```',
  'npm run build && npm test',
  '```',
  'notes: [the changelog](https://example.com/changes) and https://example.com/a_b_c',
].join('\n');

/** Types a message line by line, Shift+Enter between lines as a person does, and sends it with Enter. */
async function typeLines(page: Page, lines: string[]): Promise<void> {
  const input = page.locator('#composer-input');
  for (const [index, line] of lines.entries()) {
    if (index > 0) await input.press('Shift+Enter');
    await input.pressSequentially(line);
  }
  await input.press('Enter');
  await expect(input).toHaveValue('');
}

test('a formatted message shows formatted to a reader on WebSocket and one on long-poll', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const { page: bob } = await openPage();
  const carol = await openPage();
  await carol.context.routeWebSocket(/\/ws$/, (ws) => void ws.close({ code: 4001, reason: 'blocked by a proxy' }));
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob, parley.url, 'Bob');
  await joinChat(carol.page, parley.url, 'Carol');
  await expectLive(carol.page, 'live-poll');

  await typeLines(alice, RELEASE_NOTE.split('\n'));
  for (const page of [alice, bob, carol.page]) {
    const message = storedMessages(page).first();
    await expect(message.locator('strong')).toHaveText('Release');
    await expect(message.locator('em')).toHaveText('today');
    await expect(message.locator('del')).toHaveText('tomorrow');
    await expect(message.locator('p code')).toHaveText('v2.1');
    await expect(message.locator('blockquote')).toHaveText('the plan holds');
    await expect(message.locator('ul > li')).toHaveText(['build', 'ship']);
    await expect(message.locator('pre code')).toHaveText('npm run build && npm test');
    // A labelled link shows where it really goes; a URL with underscores stays one link.
    await expect(message.locator('a', { hasText: 'the changelog' })).toHaveAttribute('href', 'https://example.com/changes');
    await expect(message.locator('.link-host')).toHaveText('(example.com)');
    await expect(message.locator('a', { hasText: 'https://example.com/a_b_c' })).toHaveAttribute('href', 'https://example.com/a_b_c');
    await expect(message).not.toContainText('**');
  }
  await shot(bob, 'formatted-message');
});

test('Shift+Enter starts a new line and Enter sends; the copy button copies a code block', async ({ parley, openPage }) => {
  const { page, context } = await openPage();
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await joinChat(page, parley.url, 'Ada');

  await typeLines(page, ['first line', 'second line']);
  const lines = storedMessages(page).first();
  await expect(lines.locator('br')).toHaveCount(1);
  await expect(lines).toHaveText('first linesecond line');

  await typeLines(page, ['```', 'const answer = 42;', '```']);
  const code = storedMessages(page).nth(1);
  await code.hover();
  await code.getByRole('button', { name: 'Copy code' }).click();
  await expect(code.getByRole('button', { name: 'Copy code' })).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('const answer = 42;');
});

test('Markdown-shaped attacks stay inert: no script, no element, no link but to http(s)', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const { page: bob } = await openPage();
  const dialogs: string[] = [];
  for (const page of [alice, bob]) page.on('dialog', (dialog) => void dialog.dismiss().then(() => dialogs.push(dialog.message())));
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob, parley.url, 'Bob');
  const payloads = [
    '```\n<script>alert(1)</script>\n```',
    '`<img src=x onerror=alert(1)>`',
    '**<img src=x onerror=alert(1)>**',
    '![x](javascript:alert(1))',
    '[x](data:text/html,<script>alert(1)</script>)',
    '[x](  javascript:alert(1)  )',
    '> <svg onload=alert(1)>',
    '- <iframe src=javascript:alert(1)>',
    '[a](https://ok.example "title\\" onmouseover=alert(1)")',
    '<details open ontoggle=alert(1)>',
  ];
  for (const text of payloads) {
    await alice.locator('#composer-input').fill(text);
    await alice.locator('#composer-input').press('Enter');
  }
  await expect(storedMessages(bob)).toHaveCount(payloads.length);
  for (const page of [alice, bob]) {
    await expect(page.locator('.messages :is(img, script, svg, iframe, details, object, embed)')).toHaveCount(0);
    const hrefs = await page.locator('.messages a').evaluateAll((links) => links.map((link) => link.getAttribute('href')));
    expect(hrefs).toEqual(['https://ok.example/']);
    await expect(page.locator('.messages .text :is([onmouseover], [onerror], [title])')).toHaveCount(0);
  }
  await expect(storedMessages(bob).first().locator('pre code')).toHaveText('<script>alert(1)</script>');
  // A round trip after everything rendered, so that any handler would have had its chance.
  await bob.locator('#composer-input').fill('still nothing?');
  await bob.locator('#composer-input').press('Enter');
  await expect(storedMessages(alice)).toHaveCount(payloads.length + 1);
  expect(dialogs).toEqual([]);
});
