// Delivery as a user sees it when the network misbehaves: a page that goes offline keeps what it types
// (as pending, across a reload) and delivers it once when it is back; a page whose server falls silent
// takes the socket for dead, reconnects and misses nothing.
import { mkdir, rm } from 'node:fs/promises';
import type { Page, Route, WebSocketRoute } from '@playwright/test';
import {
  connectionStatus,
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
  // Bob's timers run on a clock the test can move: the client pings every 15 s and gives up on a socket
  // after 40 s without a frame.
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

  // A minute passes for Bob's page: its ping finds 40 s of silence, so it drops the socket and opens another.
  await bob.page.clock.fastForward('01:00');
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
