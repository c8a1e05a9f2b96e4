// Parley as its users see it: real browsers (separate contexts, so separate cookies) against a real
// server. Every wait is on something the page shows; there are no fixed sleeps.
import { mkdir } from 'node:fs/promises';
import type { Page, WebSocketRoute } from '@playwright/test';
import {
  authorOf,
  connectionStatus,
  deferred,
  expect,
  expectLive,
  groupOf,
  joinChat,
  messageTexts,
  sendMessage,
  storedMessage,
  storedMessages,
  test,
  within,
} from './fixtures';

const BLOCKED = { code: 4001, reason: 'blocked by proxy' };

/** What a proxy that refuses WebSockets does: the socket closes at once, before anything is said. */
function blockWebSocket(ws: WebSocketRoute): void {
  void ws.close(BLOCKED);
}

test('two people chat both ways in #lobby over WebSocket', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const { page: bob } = await openPage();
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob, parley.url, 'Bob');

  for (const page of [alice, bob]) {
    await expect(page.locator('.room-title')).toHaveText('#lobby');
    await expect(connectionStatus(page)).toHaveAttribute('data-state', 'live-ws');
    await expect(connectionStatus(page)).toHaveText('Live');
  }
  await expect(alice.locator('.me-nick')).toHaveText('Alice');
  await expect(bob.locator('.me-nick')).toHaveText('Bob');

  await sendMessage(alice, 'Hi Bob, Alice here');
  await expect(storedMessages(bob)).toHaveText(['Hi Bob, Alice here']);
  await sendMessage(bob, 'Hello Alice! Bob speaking.');
  await expect(storedMessages(alice)).toHaveText(['Hi Bob, Alice here', 'Hello Alice! Bob speaking.']);

  // Both type at once, without waiting for each other: whatever order the server gives, both pages
  // show the same one, and each person's own messages keep the order they were typed in.
  for (let i = 1; i <= 3; i++) {
    await sendMessage(alice, `alice ${i}`, { waitForAck: false });
    await sendMessage(bob, `bob ${i}`, { waitForAck: false });
  }
  await expect(storedMessages(alice)).toHaveCount(8);
  await expect(storedMessages(bob)).toHaveCount(8);
  const order = await messageTexts(alice);
  await expect(storedMessages(bob)).toHaveText(order);
  expect(order.filter((text) => text.startsWith('alice '))).toEqual(['alice 1', 'alice 2', 'alice 3']);
  expect(order.filter((text) => text.startsWith('bob '))).toEqual(['bob 1', 'bob 2', 'bob 3']);
  await expect(alice.locator('.outgoing')).toHaveCount(0);

  // Authors: each message sits under its sender's name, on both pages; yours are marked as yours.
  for (const page of [alice, bob]) {
    await expect(authorOf(page, 'Hi Bob, Alice here')).toHaveText('Alice');
    await expect(authorOf(page, 'Hello Alice! Bob speaking.')).toHaveText('Bob');
    for (let i = 1; i <= 3; i++) {
      await expect(authorOf(page, `alice ${i}`)).toHaveText('Alice');
      await expect(authorOf(page, `bob ${i}`)).toHaveText('Bob');
    }
  }
  await expect(groupOf(alice, 'Hi Bob, Alice here')).toHaveClass(/\bmine\b/);
  await expect(groupOf(bob, 'Hi Bob, Alice here')).not.toHaveClass(/\bmine\b/);
});

test('a browser whose WebSocket is blocked chats over long-poll with the others', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const { page: bob } = await openPage();
  const carol = await openPage();
  await carol.context.routeWebSocket(/\/ws$/, blockWebSocket);

  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob, parley.url, 'Bob');
  await joinChat(carol.page, parley.url, 'Carol');
  await expectLive(alice, 'live-ws');
  await expectLive(bob, 'live-ws');
  await expectLive(carol.page, 'live-poll');
  await expect(connectionStatus(carol.page)).toHaveText('Live (long-poll)');

  await sendMessage(alice, 'from Alice over WebSocket');
  await expect(storedMessage(carol.page, 'from Alice over WebSocket')).toHaveCount(1);
  await sendMessage(bob, 'from Bob over WebSocket');
  await expect(storedMessage(carol.page, 'from Bob over WebSocket')).toHaveCount(1);
  await sendMessage(carol.page, 'from Carol over HTTP');
  await expect(storedMessage(alice, 'from Carol over HTTP')).toHaveCount(1);
  await expect(storedMessage(bob, 'from Carol over HTTP')).toHaveCount(1);
  await expect(authorOf(alice, 'from Carol over HTTP')).toHaveText('Carol');

  // All three at once.
  for (let i = 1; i <= 3; i++) {
    await sendMessage(alice, `A${i}`, { waitForAck: false });
    await sendMessage(bob, `B${i}`, { waitForAck: false });
    await sendMessage(carol.page, `C${i}`, { waitForAck: false });
  }
  for (const page of [alice, bob, carol.page]) await expect(storedMessages(page)).toHaveCount(12);
  const order = await messageTexts(alice);
  expect(new Set(order).size).toBe(12);
  await expect(storedMessages(bob)).toHaveText(order);
  await expect(storedMessages(carol.page)).toHaveText(order);
  const seqs = await storedMessages(alice).evaluateAll((els) => els.map((el) => el.getAttribute('data-seq')));
  expect(seqs).toEqual(order.map((_, i) => String(i + 1)));
  for (const page of [bob, carol.page]) {
    expect(await storedMessages(page).evaluateAll((els) => els.map((el) => el.getAttribute('data-seq')))).toEqual(seqs);
  }
  // Carol never got a WebSocket through, and stayed on long-poll throughout.
  await expect(connectionStatus(carol.page)).toHaveAttribute('data-state', 'live-poll');
});

test('a page on long-poll moves back to WebSocket once it is allowed, losing and repeating nothing', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  await joinChat(alice, parley.url, 'Alice');

  // Carol's WebSocket is refused until `allowed`; the first one allowed through is held twice, so that
  // Alice can send while the switch is under way: once before the server has Carol's subscribe (the
  // replay then repeats what Carol already got by long-poll), once before Carol has the answer (the
  // live frames then repeat it too).
  const carol = await openPage();
  let allowed = false;
  let refused = 0;
  const subscribeArrived = deferred();
  const releaseSubscribe = deferred();
  const answerArrived = deferred();
  const releaseAnswer = deferred();
  await carol.context.routeWebSocket(/\/ws$/, (ws) => {
    if (!allowed) {
      refused++;
      blockWebSocket(ws);
      return;
    }
    const server = ws.connectToServer();
    let toServer = Promise.resolve();
    ws.onMessage((frame) => {
      toServer = toServer.then(async () => {
        if (frameType(frame) === 'subscribe' && !subscribeArrived.settled) {
          subscribeArrived.resolve();
          await releaseSubscribe.promise;
        }
        server.send(frame);
      });
    });
    let toPage = Promise.resolve();
    server.onMessage((frame) => {
      toPage = toPage.then(async () => {
        if (frameType(frame) === 'subscribed' && !answerArrived.settled) {
          answerArrived.resolve();
          await releaseAnswer.promise;
        }
        ws.send(frame);
      });
    });
  });

  await joinChat(carol.page, parley.url, 'Carol');
  await expectLive(carol.page, 'live-poll');
  await sendMessage(alice, 'before 1');
  await sendMessage(alice, 'before 2');
  await expect(storedMessages(carol.page)).toHaveText(['before 1', 'before 2']);
  await sendMessage(carol.page, 'Carol over HTTP');
  await expect(storedMessage(alice, 'Carol over HTTP')).toHaveCount(1);

  allowed = true;
  // The client keeps retrying the socket in the background with backoff (0.5 s, 1 s, 2 s, 4 s, ...).
  await within(subscribeArrived.promise, 15_000, "Carol's page to retry the WebSocket");
  expect(refused).toBeGreaterThanOrEqual(1); // the socket that got through is a retry the page made by itself
  await sendMessage(alice, 'during 1');
  await expect(storedMessage(carol.page, 'during 1')).toHaveCount(1); // by long-poll
  releaseSubscribe.resolve();
  await within(answerArrived.promise, 5_000, "the server's answer to Carol's subscribe");
  await sendMessage(alice, 'during 2');
  await expect(storedMessage(carol.page, 'during 2')).toHaveCount(1); // by long-poll
  releaseAnswer.resolve();

  await expectLive(carol.page, 'live-ws');
  await expect(connectionStatus(carol.page)).toHaveText('Live');
  await sendMessage(alice, 'after 1');
  await sendMessage(alice, 'after 2');
  await sendMessage(carol.page, 'Carol over WebSocket');

  const expected = ['before 1', 'before 2', 'Carol over HTTP', 'during 1', 'during 2', 'after 1', 'after 2', 'Carol over WebSocket'];
  await expect(storedMessages(carol.page)).toHaveText(expected);
  await expect(storedMessages(alice)).toHaveText(expected);
  await expect(carol.page.locator('.outgoing')).toHaveCount(0);
  await expect(connectionStatus(carol.page)).toHaveAttribute('data-state', 'live-ws');
});

test('a reload shows the history, and each URL is its own room', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const { page: bob } = await openPage();
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob, parley.url, 'Bob');
  await expect(alice).toHaveURL(`${parley.url}/`);
  await expect(alice.locator('.room-title')).toHaveText('#lobby');

  const lobby = ['first in the lobby', 'second in the lobby', 'third in the lobby'];
  for (const text of lobby) await sendMessage(alice, text);
  await expect(storedMessages(bob)).toHaveText(lobby);

  await alice.reload();
  await expectLive(alice, 'live-ws');
  await expect(alice.locator('.me-nick')).toHaveText('Alice'); // still signed in
  await expect(storedMessages(alice)).toHaveText(lobby);

  await alice.goto(`${parley.url}/r/dev`);
  await expectLive(alice, 'live-ws');
  await expect(alice.locator('.room-title')).toHaveText('#dev');
  await expect(alice.locator('.room-start')).toHaveText('This is the start of #dev.');
  await expect(storedMessages(alice)).toHaveCount(0);
  await sendMessage(alice, 'only in dev');
  await alice.reload();
  await expect(storedMessages(alice)).toHaveText(['only in dev']);

  await alice.goto(`${parley.url}/`);
  await expect(alice.locator('.room-title')).toHaveText('#lobby');
  await expect(storedMessages(alice)).toHaveText(lobby);
  await sendMessage(alice, 'back in the lobby');
  // Bob stayed in the lobby all along: he got the lobby's new message, and never the one in #dev.
  await expect(storedMessages(bob)).toHaveText([...lobby, 'back in the lobby']);

  await bob.goto(`${parley.url}/r/dev`);
  await expect(bob.locator('.room-title')).toHaveText('#dev');
  await expect(storedMessages(bob)).toHaveText(['only in dev']);
});

test('the history survives a server restart on the same data dir', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  await joinChat(alice, parley.url, 'Alice');
  const lobby = ['kept 1', 'kept 2', 'kept 3'];
  for (const text of lobby) await sendMessage(alice, text);
  await alice.goto(`${parley.url}/r/dev`);
  await expectLive(alice, 'live-ws');
  await sendMessage(alice, 'kept in dev');

  const url = await parley.restart();

  // A newcomer on the new server sees everything.
  const { page: dave } = await openPage();
  await joinChat(dave, url, 'Dave');
  await expect(storedMessages(dave)).toHaveText(lobby);
  await expect(authorOf(dave, 'kept 1')).toHaveText('Alice');
  await dave.goto(`${url}/r/dev`);
  await expect(storedMessages(dave)).toHaveText(['kept in dev']);

  // Alice opens the new URL: her session (signed with the secret kept in the data dir) still holds.
  await alice.goto(`${url}/`);
  await expectLive(alice, 'live-ws');
  await expect(alice.locator('.me-nick')).toHaveText('Alice');
  await expect(storedMessages(alice)).toHaveText(lobby);
  await sendMessage(alice, 'after the restart');
  await expect(storedMessages(dave)).toHaveCount(1); // Dave is in #dev
  await dave.goto(`${url}/`);
  await expect(storedMessages(dave)).toHaveText([...lobby, 'after the restart']);
});

test('an open page reconnects by itself when the server restarts on the same port', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const carol = await openPage();
  await carol.context.routeWebSocket(/\/ws$/, blockWebSocket);
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(carol.page, parley.url, 'Carol');
  await expectLive(carol.page, 'live-poll');
  await sendMessage(alice, 'before the restart');
  await expect(storedMessages(carol.page)).toHaveText(['before the restart']);

  await parley.restart({ samePort: true });

  await expectLive(alice, 'live-ws', 15_000);
  await expectLive(carol.page, 'live-poll', 15_000);
  await sendMessage(alice, 'after the restart');
  await sendMessage(carol.page, 'Carol is still here');
  const expected = ['before the restart', 'after the restart', 'Carol is still here'];
  await expect(storedMessages(alice)).toHaveText(expected);
  await expect(storedMessages(carol.page)).toHaveText(expected);
});

test('markup in a message is shown as text, never run', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const { page: bob } = await openPage();
  const dialogs: string[] = [];
  for (const page of [alice, bob]) {
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob, parley.url, 'Bob');

  const payloads = [
    '<img src=x onerror=alert(1)>',
    '<script>alert(2)</script>',
    '<a href="javascript:alert(3)">click me</a>',
    'javascript:alert(4) and https://example.com/?q=<b>x</b>',
  ];
  for (const text of payloads) await sendMessage(alice, text);
  await expect(storedMessages(bob)).toHaveText(payloads);

  for (const page of [alice, bob]) {
    await expect(page.locator('.messages img')).toHaveCount(0);
    await expect(page.locator('.messages script')).toHaveCount(0);
    await expect(page.locator('.messages b')).toHaveCount(0);
    // The only link is the http(s) one, cut before the markup.
    const links = page.locator('.messages a');
    await expect(links).toHaveCount(1);
    await expect(links).toHaveAttribute('href', 'https://example.com/?q=');
    await expect(links).toHaveAttribute('rel', /noopener/);
  }
  // A round trip after the messages rendered, so an onerror handler would have had its chance.
  await sendMessage(bob, 'nothing happened?');
  await expect(storedMessage(alice, 'nothing happened?')).toHaveCount(1);
  expect(dialogs).toEqual([]);
});

test('screenshots of a busy conversation: desktop, phone and dark', async ({ parley, openPage }) => {
  const dir = test.info().project.outputDir + '/screenshots';
  await mkdir(dir, { recursive: true });

  // The conversation is stored as the server would store it from three people; what is looked at here is
  // how it reads. (Sending through the page is what the other specs prove: typing twelve messages in three
  // browsers only made this one slow on a busy machine.)
  const script: [string, string][] = [
    ['Alice', 'Morning all! Is the deploy still on for today?'],
    ['Bob', 'Yes, at 14:00 UTC.'],
    ['Bob', 'The runbook is at https://example.com/wiki/deploys/2024-runbook#rollback if anyone wants to review it first.'],
    ['Chloé Fontaine-Martel', 'I will watch the dashboards 👀'],
    ['Alice', 'Great, thanks.'],
    ['Alice', 'One more thing:\n1. freeze merges at 13:30\n2. announce in #ops\n3. tag the release'],
    ['Bob', 'Sounds good.'],
    ['Chloé Fontaine-Martel', 'Question about the migration: the messages collection has a unique index on (room, clientId), and the backfill script writes old messages without a clientId. Will the index reject the second one with a missing clientId, or do we generate ids for the old rows first? I would rather not find out at 14:05.'],
    ['Alice', 'Good catch — we generate ids first, the script does it in batches of 1000.'],
    ['Bob', 'averyveryveryverylongwordwithoutanyspacesthatmightoverflowthemessagecolumnifthecssdoesnotbreakit_0123456789'],
    ['Chloé Fontaine-Martel', 'ok 👍'],
  ];
  for (const [i, [author, text]] of script.entries()) {
    await parley.server.store.append({ room: 'lobby', clientId: `screenshot-${i}`, author, text });
  }
  const { page: alice } = await openPage({ viewport: { width: 1280, height: 800 } });
  const { page: bob } = await openPage();
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob, parley.url, 'Bob');
  await sendMessage(alice, 'See you at two.');
  await expect(storedMessages(bob)).toHaveCount(script.length + 1);
  await expect(alice.locator('.jump')).toHaveCount(0);
  await alice.screenshot({ path: `${dir}/chat-desktop.png` });

  const { page: phone } = await openPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await joinChat(phone, parley.url, 'Dmitri');
  await sendMessage(phone, 'On my phone, following along.');
  await expect(storedMessages(phone)).toHaveCount(script.length + 2);
  await phone.screenshot({ path: `${dir}/chat-phone.png` });

  const { page: dark } = await openPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  await joinChat(dark, parley.url, 'Eve');
  await expect(storedMessages(dark)).toHaveCount(script.length + 2);
  await dark.screenshot({ path: `${dir}/chat-dark.png` });
});

function frameType(frame: string | Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(frame.toString());
    return typeof parsed === 'object' && parsed !== null && 'type' in parsed && typeof parsed.type === 'string' ? parsed.type : undefined;
  } catch {
    return undefined;
  }
}
