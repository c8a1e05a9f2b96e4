// Files in messages in a real Chromium: an image pasted and a file dropped in one browser, with a progress
// bar while they upload, reach another browser that long-polls (its WebSockets refused), as a thumbnail
// that opens full size and a link with name and size. HTML and SVG uploads carrying script are served
// inert: opened by their URL they download as text, nothing runs, and no CSP violation is reported.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsoleMessage, Page } from '@playwright/test';
import { startServer } from '../server/app';
import { loadConfig } from '../server/config';
import { deferred, expect, expectLive, joinChat, shotsDir, storedMessage, test } from './fixtures';
import { clientDir } from './paths';

interface Watch {
  dialogs: string[];
  cspViolations: string[];
}

function watch(page: Page): Watch {
  const seen: Watch = { dialogs: [], cspViolations: [] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message: ConsoleMessage) => {
    if (/Content.Security.Policy/i.test(message.text())) seen.cspViolations.push(message.text());
  });
  return seen;
}

/** Pastes a PNG drawn on a canvas (as a screenshot pasted from the clipboard arrives) into the composer. */
async function pasteImage(page: Page, name: string): Promise<void> {
  await page.locator('#composer-input').evaluate(async (input, fileName) => {
    const canvas = document.createElement('canvas');
    canvas.width = 480;
    canvas.height = 300;
    const g = canvas.getContext('2d');
    if (!g) throw new Error('no 2d context');
    const sky = g.createLinearGradient(0, 0, 0, 300);
    sky.addColorStop(0, '#2f6fde');
    sky.addColorStop(1, '#f6c177');
    g.fillStyle = sky;
    g.fillRect(0, 0, 480, 300);
    g.fillStyle = '#1d2330';
    g.beginPath();
    g.moveTo(0, 300);
    g.lineTo(160, 150);
    g.lineTo(300, 260);
    g.lineTo(400, 180);
    g.lineTo(480, 300);
    g.fill();
    g.fillStyle = '#ffffff';
    g.font = 'bold 36px sans-serif';
    g.fillText('Pasted into Parley', 70, 80);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('canvas gave no PNG');
    const data = new DataTransfer();
    data.items.add(new File([blob], fileName, { type: 'image/png' }));
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, name);
}

/** Drags a file over the page and drops it on the message list, as from the desktop. */
async function dropFile(page: Page, name: string, type: string, content: string): Promise<void> {
  await page.locator('.messages').evaluate(
    (target, file) => {
      const data = new DataTransfer();
      data.items.add(new File([file.content], file.name, { type: file.type }));
      for (const kind of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(kind, { dataTransfer: data, bubbles: true, cancelable: true }));
      }
    },
    { name, type, content },
  );
}

test('an image pasted and a file dropped in one browser show in another that long-polls', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const bob = await openPage();
  const watches = [watch(alice), watch(bob.page)];
  await bob.context.routeWebSocket(/\/ws$/, (ws) => void ws.close({ code: 4001, reason: 'blocked by a proxy' }));
  await joinChat(alice, parley.url, 'Alice');
  await joinChat(bob.page, parley.url, 'Bob');
  await expectLive(bob.page, 'live-poll');

  // The first upload is held on its way, so that its progress bar can be seen.
  const release = deferred();
  await alice.route(/\/api\/rooms\/lobby\/files\?/, async (route) => {
    await release.promise;
    await route.continue();
  });
  await pasteImage(alice, 'image.png');
  const tray = alice.locator('.attachment-tray');
  await expect(tray.locator('progress')).toBeVisible();
  // Send is there while it uploads: a message sent now goes once its files are up (the test below).
  await expect(alice.locator('.composer button[type=submit]')).toBeEnabled();
  await alice.screenshot({ path: `${shotsDir()}/files-uploading.png` });
  release.resolve();
  await dropFile(alice, 'meeting-notes.txt', 'text/plain', 'Agenda\n1. Files in messages\n2. Search\n'.repeat(40));
  await expect(tray.locator('.attachment.ready')).toHaveCount(2);

  await alice.locator('#composer-input').fill('The view from the office, and the notes');
  await alice.locator('#composer-input').press('Enter');
  await expect(tray).toHaveCount(0);

  for (const page of [alice, bob.page]) {
    const files = page.locator('.messages .message-files');
    const thumb = files.locator('img.thumb');
    await expect(thumb).toHaveAttribute('alt', 'image.png');
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(480);
    await expect(files.locator('.file-link')).toContainText('meeting-notes.txt');
    await expect(files.locator('.file-link .file-size')).toHaveText('1.5 KB');
    await expect(files.locator('.file-link')).toHaveAttribute('download', 'meeting-notes.txt');
  }
  await alice.screenshot({ path: `${shotsDir()}/files-sender.png` });
  await bob.page.screenshot({ path: `${shotsDir()}/files-long-poll-reader.png` });
  await bob.page.setViewportSize({ width: 390, height: 844 });
  await bob.page.screenshot({ path: `${shotsDir()}/files-phone.png` });
  await bob.page.setViewportSize({ width: 1280, height: 800 });

  // The thumbnail opens the image full size, in a tab of its own.
  // Watched from its context, so that what it reports while it opens is seen too.
  const fullTab: Watch = { dialogs: [], cspViolations: [] };
  watches.push(fullTab);
  bob.context.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) fullTab.cspViolations.push(message.text());
  });
  bob.context.on('dialog', (dialog) => fullTab.dialogs.push(dialog.message()));
  const [full] = await Promise.all([bob.page.waitForEvent('popup'), bob.page.locator('img.thumb').click()]);
  await full.waitForLoadState();
  await expect.poll(() => full.evaluate(() => document.images[0]?.naturalWidth)).toBe(480);
  expect(new URL(full.url()).pathname).toMatch(/^\/files\/[A-Za-z0-9_-]{22}\/image\.png$/);
  await full.screenshot({ path: `${shotsDir()}/files-full-size.png` });
  await full.close();

  for (const seen of watches) expect(seen).toEqual({ dialogs: [], cspViolations: [] });
});

test('HTML and SVG uploads carrying script are served inert, even opened by their own URL', async ({ parley, openPage }) => {
  const { page: alice } = await openPage();
  const seen = watch(alice);
  await joinChat(alice, parley.url, 'Alice');
  const files = [
    { name: 'invitation.html', mimeType: 'text/html', buffer: Buffer.from('<!doctype html><h1>Hi</h1><script>alert("html")</script><img src=x onerror="alert(\'img\')">') },
    { name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'svg\')"><script>alert("svg script")</script><circle r="40"/></svg>') },
    // An SVG that claims to be a PNG: the name and the browser's type say image, the bytes say text.
    { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'renamed\')"></svg>') },
  ];
  await alice.locator('.composer input[type=file]').setInputFiles(files);
  await expect(alice.locator('.attachment-tray .attachment.ready')).toHaveCount(3);
  await alice.locator('#composer-input').press('Enter');

  const links = alice.locator('.messages .message-files .file-link');
  await expect(links).toHaveCount(3);
  // None of them is shown as an image: each is a link that downloads.
  await expect(alice.locator('.messages img')).toHaveCount(0);
  await alice.screenshot({ path: `${shotsDir()}/files-inert-links.png` });

  for (const [index, file] of files.entries()) {
    const href = await links.nth(index).getAttribute('href');
    if (!href) throw new Error('a file link without an address');
    const answer = await alice.request.get(parley.url + href);
    expect(answer.headers()['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.headers()['content-disposition']).toMatch(/^attachment; /);
    expect(answer.headers()['x-content-type-options']).toBe('nosniff');
    expect(answer.headers()['content-security-policy']).toBe("sandbox; default-src 'none'");
    expect(await answer.text()).toBe(file.buffer.toString());

    // Opened by its URL in a tab of its own: it downloads, and no document of it runs.
    const tab = await alice.context().newPage();
    const tabSeen = watch(tab);
    const download = tab.waitForEvent('download');
    await tab.goto(parley.url + href).catch((error: Error) => {
      if (!/Download is starting|ERR_ABORTED/.test(error.message)) throw error;
    });
    expect((await download).suggestedFilename()).toBe(file.name);
    expect(tabSeen).toEqual({ dialogs: [], cspViolations: [] });
    await tab.close();
  }
  expect(seen).toEqual({ dialogs: [], cspViolations: [] });
});

test('six files at once upload in turn; one over MAX_FILE_BYTES is refused with the reason beside it, and the message goes without it', async ({ openPage }) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
  const server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', MAX_FILE_BYTES: '1000000' }), { clientDir });
  try {
    const { page } = await openPage();
    await joinChat(page, server.url, 'Alice');
    await page.locator('.composer input[type=file]').setInputFiles([
      { name: 'video.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3_000_000, 7) },
      ...[1, 2, 3, 4, 5].map((n) => ({ name: `small-${n}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`fits ${n}`) })),
    ]);
    const failed = page.locator('.attachment-tray .attachment.failed');
    await expect(failed).toHaveCount(1);
    await expect(failed).toContainText('video.bin');
    await expect(failed.locator('.attachment-error')).toHaveText('a file has at most 977 KB');
    // More files than the server takes at once from one person (3): the page sends them in turn, none refused.
    await expect(page.locator('.attachment-tray .attachment.ready')).toHaveCount(5);
    await page.screenshot({ path: `${shotsDir()}/files-too-large.png` });
    await page.locator('#composer-input').press('Enter');
    await expect(page.locator('.messages .file-link .file-name')).toHaveText(['small-1.txt', 'small-2.txt', 'small-3.txt', 'small-4.txt', 'small-5.txt']);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a message sent while its file still uploads goes once the file is up, with it', async ({ openPage }) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
  const server = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), { clientDir });
  try {
    const { page } = await openPage();
    await joinChat(page, server.url, 'Alice');
    // The upload is held until the test lets it through: the file is still on its way when Enter is pressed.
    const uploadHeld = deferred();
    const uploadSeen = deferred();
    await page.route('**/api/rooms/lobby/files**', async (route) => {
      uploadSeen.resolve();
      await uploadHeld.promise;
      await route.continue();
    });
    await page.locator('.composer input[type=file]').setInputFiles([{ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('the plan') }]);
    await uploadSeen.promise;
    await page.locator('#composer-input').fill('here is the plan');
    await page.locator('#composer-input').press('Enter');
    const sendButton = page.locator('.composer button[type=submit]');
    await expect(sendButton).toHaveText('Sending…');
    await expect(sendButton).toBeDisabled();
    await expect(page.locator('#composer-input')).toHaveValue('here is the plan');
    await expect(storedMessage(page, 'here is the plan')).toHaveCount(0);
    uploadHeld.resolve();
    await expect(storedMessage(page, 'here is the plan')).toHaveCount(1);
    await expect(page.locator('.messages .file-link .file-name')).toHaveText(['plan.txt']);
    await expect(page.locator('#composer-input')).toHaveValue('');
    await expect(sendButton).toHaveText('Send');
    await expect(page.locator('.attachment-tray')).toHaveCount(0);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
