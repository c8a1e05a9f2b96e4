// Delivery as a user sees it when the network misbehaves: a page that goes offline keeps what it types
// (as pending, across a reload) and delivers it once when it is back; a page whose server falls silent
// takes the socket for dead, reconnects and misses nothing.
import { mkdir, rm } from 'node:fs/promises';
import type { Page, Route, WebSocketRoute } from '@playwright/test';
import {
  connectionStatus,
  deferred,
  expect,
  expectLive,
  joinChat,
  messageTexts,
  sendMessage,
  startParley,
  storedMessage,
  storedMessages,
  test,
} from './fixtures';

/** The messages still on their way, as the page shows them. */
function pendingMessages(page: Page) {
  return page.locator('.messages .outgoing.pending');
}

/** Sends, long-polls and the reachability check: what fails while a page is offline. */
function isSyncRequest(url: URL, method: string): boolean {
  if (url.pathname === '/wait' || url.pathname === '/healthz') return true;
  return method === 'POST' && /^\/api\/rooms\/[^/]+\/messages$/.test(url.pathname);
}

test('a page that goes offline keeps its messages pending, across a reload, and delivers each once when back', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const bob = await openPage();

  // Bob's network: while `offline`, new sockets are refused (4001), the open ones are cut, and sends,
  // long-polls and health checks fail. The page itself (HTML, script, session, history) still loads.
  let offline = false;
  const open: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
  await bob.context.routeWebSocket(/\/ws$/, (ws) => {
    if (offline) {
      void ws.close({ code: 4001, reason: 'offline' });
      return;
    }
    open.push({ page: ws, server: ws.connectToServer() });
  });
  const blocked = (route: Route) => (offline && isSyncRequest(new URL(route.request().url()), route.request().method()) ? route.abort('internetdisconnected') : route.fallback());
  await bob.context.route('**/*', blocked);

  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob.page, parley.url, 'Bob');
  await sendMessage(alice, 'Are you there, Bob?');
  await sendMessage(bob.page, 'Yes, on the train');
  await expect(storedMessages(alice)).toHaveText(['Are you there, Bob?', 'Yes, on the train']);

  // The train enters a tunnel.
  offline = true;
  for (const { page, server } of open.splice(0)) {
    await page.close({ code: 4001, reason: 'offline' });
    await server.close();
  }
  await expect(connectionStatus(bob.page)).not.toHaveAttribute('data-state', /^live-/);
  await sendMessage(bob.page, 'tunnel one', { waitForAck: false });
  await sendMessage(bob.page, 'tunnel two', { waitForAck: false });
  await expect(pendingMessages(bob.page)).toHaveText([/tunnel one/, /tunnel two/]);
  await expect(pendingMessages(bob.page).locator('.time')).toHaveText(['Sending…', 'Sending…']);
  await sendMessage(alice, 'Bob? You went quiet');

  // A reload while offline: the outbox is in localStorage, so both are still there, still pending.
  await bob.page.reload();
  await expect(pendingMessages(bob.page)).toHaveText([/tunnel one/, /tunnel two/]);
  await expect(storedMessage(alice, 'tunnel one')).toHaveCount(0);

  // Out of the tunnel: everything arrives, once, in the same order on both pages.
  offline = false;
  const expected = ['Are you there, Bob?', 'Yes, on the train', 'Bob? You went quiet', 'tunnel one', 'tunnel two'];
  await expect(storedMessages(bob.page)).toHaveText(expected, { timeout: 20_000 });
  await expect(storedMessages(alice)).toHaveText(expected);
  await expect(bob.page.locator('.outgoing')).toHaveCount(0);
  expect(await messageTexts(alice)).toEqual(await messageTexts(bob.page));
  await expectLive(bob.page);
});

test('a page whose server falls silent takes the socket for dead, reconnects, and misses nothing', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const bob = await openPage();
  // Bob's timers run on a clock the test can move: the client pings every 10 s and gives up on a socket
  // that has not answered 3 s later.
  await bob.page.clock.install();

  // Bob's first socket goes silent on cue: the server still gets his frames, he gets nothing back.
  let connections = 0;
  let silent = false;
  await bob.context.routeWebSocket(/\/ws$/, (ws) => {
    const first = ++connections === 1;
    const server = ws.connectToServer();
    ws.onMessage((frame) => server.send(frame));
    server.onMessage((frame) => {
      if (!(first && silent)) ws.send(frame);
    });
  });

  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob.page, parley.url, 'Bob');
  await expectLive(bob.page, 'live-ws');
  await sendMessage(alice, 'before the silence');
  await expect(storedMessages(bob.page)).toHaveText(['before the silence']);

  silent = true;
  await sendMessage(alice, 'during the silence');
  await expect(storedMessages(bob.page)).toHaveText(['before the silence']);
  expect(connections).toBe(1);

  // 13 s pass for Bob's page: its ping went unanswered, so it drops the socket and opens another.
  await bob.page.clock.runFor(10_000);
  await expect(connectionStatus(bob.page)).toHaveAttribute('data-state', 'live-ws');
  await bob.page.clock.runFor(3_000);
  await expect.poll(() => connections).toBe(2);
  await expectLive(bob.page, 'live-ws');
  await expect(storedMessages(bob.page)).toHaveText(['before the silence', 'during the silence']);
  await sendMessage(alice, 'after the silence');
  await expect(storedMessages(bob.page)).toHaveText(['before the silence', 'during the silence', 'after the silence']);
  expect(connections).toBe(2);
});

test('a page whose cursor the server cannot serve (data wiped) gets a reset and shows the room afresh', async ({ parley, openPage }) => {
  const { page: bob } = await openPage();
  await joinChat(bob, parley.url, 'Bob');
  await sendMessage(bob, 'old one');
  await sendMessage(bob, 'old two');

  // The server comes back on the same port with its data wiped: a new epoch, an empty lobby.
  const { port } = parley.server;
  await parley.server.close();
  await rm(parley.dataDir, { recursive: true, force: true });
  await mkdir(parley.dataDir);
  const wiped = await startParley(parley.dataDir, port);
  try {
    // Bob's page resubscribes with its old cursor, is told to reset, and reloads the room instead of
    // keeping messages the server no longer has (or skipping what the new log holds).
    await expect(storedMessages(bob)).toHaveCount(0, { timeout: 10_000 });
    await expectLive(bob);
    const { page: alice } = await openPage();
    await joinChat(alice, wiped.url, 'Alice');
    await sendMessage(alice, 'fresh start');
    await expect(storedMessages(bob)).toHaveText(['fresh start']);
    await expect(storedMessages(bob).first()).toHaveAttribute('data-seq', '1');
  } finally {
    await wiped.close();
  }
});

test('a page on long-poll shows what another page sent during a restart, though its own send was answered first', async ({ parley, openPage }) => {
  // Issue 13, as a user hit it: Lena on long-poll, Wendy on WebSocket; the server stops, both write, it comes
  // back. Wendy's message is stored first (seq 2), then Lena's POST is answered (seq 3) while her long-poll is
  // still waiting out its backoff. Her page must then ask from seq 1, not from her own seq 3.
  const { page: wendy } = await openPage();
  const lena = await openPage();
  await lena.context.routeWebSocket(/\/ws$/, (ws) => void ws.close({ code: 4001, reason: 'blocked by proxy' }));
  await joinChat(wendy, parley.url, 'Wendy');
  await joinChat(lena.page, parley.url, 'Lena');
  await expectLive(wendy, 'live-ws');
  await expectLive(lena.page, 'live-poll');
  await sendMessage(wendy, 'before the restart');
  await expect(storedMessages(lena.page)).toHaveText(['before the restart']);

  // Lena's long-polls fail until the test lets them through (they back off, as when the server was down),
  // and her send goes out only once Wendy's is stored.
  let pollsFail = true;
  await lena.page.route(/\/(wait|healthz)(\?|$)/, (route) => (pollsFail ? route.abort('connectionrefused') : route.fallback()));
  const wendyStored = deferred();
  await lena.page.route(/\/api\/rooms\/lobby\/messages$/, async (route) => {
    if (route.request().method() === 'POST') await wendyStored.promise;
    await route.fallback();
  });

  await parley.restart({
    samePort: true,
    whileDown: async () => {
      await sendMessage(wendy, 'from Wendy while it was down', { waitForAck: false });
      await sendMessage(lena.page, 'from Lena while it was down', { waitForAck: false });
      await expect(pendingMessages(lena.page)).toHaveText([/from Lena while it was down/]);
    },
  });
  await expect(storedMessage(wendy, 'from Wendy while it was down')).toHaveCount(1, { timeout: 10_000 });
  pollsFail = false;
  wendyStored.resolve();

  const expected = ['before the restart', 'from Wendy while it was down', 'from Lena while it was down'];
  await expect(storedMessages(lena.page)).toHaveText(expected, { timeout: 10_000 });
  await expect(storedMessages(wendy)).toHaveText(expected);
  expect(await storedMessages(lena.page).evaluateAll((els) => els.map((el) => el.getAttribute('data-seq')))).toEqual(['1', '2', '3']);
});

test('the header says Offline as soon as the browser goes offline, on WebSocket and on long-poll, and Live once back', async ({ parley, openPage }) => {
  const ws = await openPage();
  const poll = await openPage();
  await poll.context.routeWebSocket(/\/ws$/, (socket) => void socket.close({ code: 4001, reason: 'blocked by proxy' }));
  await joinChat(ws.page, parley.url, 'Olga');
  await joinChat(poll.page, parley.url, 'Pavel');
  await expectLive(ws.page, 'live-ws');
  await expectLive(poll.page, 'live-poll');

  for (const { context } of [ws, poll]) await context.setOffline(true);
  // The `offline` event says it at once: no waiting for a socket or a long-poll to time out.
  for (const { page } of [ws, poll]) {
    await expect(connectionStatus(page)).toHaveAttribute('data-state', 'offline', { timeout: 1000 });
    await expect(connectionStatus(page)).toHaveText('Offline');
    await sendMessage(page, `${page === ws.page ? 'Olga' : 'Pavel'} writes offline`, { waitForAck: false });
    await expect(pendingMessages(page)).toHaveCount(1);
  }

  for (const { context } of [ws, poll]) await context.setOffline(false);
  await expectLive(ws.page, 'live-ws');
  await expectLive(poll.page, 'live-poll');
  // Each message goes out once, and both pages show the two in the order the server stored them.
  for (const { page } of [ws, poll]) {
    await expect(storedMessages(page)).toHaveCount(2, { timeout: 10_000 });
    await expect(pendingMessages(page)).toHaveCount(0);
  }
  expect(await messageTexts(ws.page)).toEqual(await messageTexts(poll.page));
  expect((await messageTexts(ws.page)).sort()).toEqual(['Olga writes offline', 'Pavel writes offline']);
});
