// Private rooms and direct messages as people use them: two people sign up and talk in a DM that a third
// cannot see in the sidebar nor open by its address (the same page as a room that does not exist); a
// moderator's ban takes the room away from the banned person's open page at once; leaving asks first, and the
// last member is told the room goes with its messages.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, expectLive, sendMessage, shotsDir, signUpAt, storedMessage, test } from './fixtures';

const privateList = (page: Page) => page.locator('.private-rooms .room-list li');

/** `page` creates a private room titled `title` and opens it; resolves once it shows as that room. */
async function createPrivateRoom(page: Page, title: string): Promise<void> {
  await page.getByRole('button', { name: 'New private room' }).click();
  await page.getByLabel('Title of the new private room').fill(title);
  await page.getByLabel('Title of the new private room').press('Enter');
  await expect(page.locator('.room-title')).toHaveText(`🔒Private room ${title}`);
}

/** Invites `username` into the open private room through the header's Invite form. */
async function inviteByName(page: Page, username: string): Promise<void> {
  await page.getByRole('button', { name: 'Invite' }).click();
  await page.getByLabel('Username to invite').fill(username);
  await page.getByLabel('Username to invite').press('Enter');
}

test('two people talk in a DM; a third sees it nowhere and gets the no-such-room page at its address', async ({ parley, openPage }) => {
  const { page: ana } = await openPage();
  const { page: bo } = await openPage();
  const { page: cy } = await openPage();
  await signUpAt(ana, parley.url, 'Ana');
  await signUpAt(bo, parley.url, 'Bo');
  await signUpAt(cy, parley.url, 'Cy');

  await ana.getByRole('button', { name: 'Message someone' }).click();
  await ana.getByLabel('Username to message').fill('bo');
  await ana.getByLabel('Username to message').press('Enter');
  await expect(ana).toHaveURL(/\/r\/~[a-z2-7]{20}$/);
  await expect(ana.locator('.room-title')).toHaveText('@Direct message with Bo');
  await expectLive(ana);
  const dmUrl = ana.url();
  await sendMessage(ana, 'Hi Bo, just between us');

  // Bo finds it in the sidebar, under Ana's name, and answers.
  await bo.reload();
  await expect(privateList(bo).locator('.room-name')).toHaveText(['@ Direct message with Ana']);
  // Unread, and counted like any room: Ana's one message.
  await expect(privateList(bo).locator('.badge')).toHaveText('1');
  await privateList(bo).getByRole('link').click();
  await expect(bo).toHaveURL(dmUrl);
  await expect(storedMessage(bo, 'Hi Bo, just between us')).toBeVisible();
  await sendMessage(bo, 'Got it, Ana');
  await expect(storedMessage(ana, 'Got it, Ana')).toBeVisible();
  await ana.screenshot({ path: `${shotsDir()}/rooms-dm.png` });
  const serious = (await new AxeBuilder({ page: ana }).analyze()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

  // Cy: no DM in the sidebar, and its address answers as an address where no room is.
  await cy.reload();
  await expectLive(cy);
  await expect(privateList(cy)).toHaveCount(0);
  await cy.goto(dmUrl);
  await expect(cy.getByRole('heading', { name: 'No such room' })).toBeVisible();
  const seenAtDm = await cy.locator('main').innerText();
  await cy.screenshot({ path: `${shotsDir()}/rooms-dm-as-outsider.png` });
  await cy.goto(`${parley.url}/r/~${'a'.repeat(20)}`);
  await expect(cy.getByRole('heading', { name: 'No such room' })).toBeVisible();
  expect(await cy.locator('main').innerText()).toBe(seenAtDm);
  await expect(storedMessage(cy, 'Hi Bo, just between us')).toHaveCount(0);
});

test("a moderator's ban takes the room from the banned person's open page", async ({ parley, openPage }) => {
  const { page: olga } = await openPage();
  const { page: pat } = await openPage();
  await signUpAt(olga, parley.url, 'Olga', '/r/town');
  await sendMessage(olga, 'Welcome to town');
  await signUpAt(pat, parley.url, 'Pat', '/r/town');
  await expect(storedMessage(pat, 'Welcome to town')).toBeVisible();
  await sendMessage(pat, 'Buy cheap stuff now');

  // The room's owner may remove anyone's message: the message list offers it (its role from GET /api/rooms/:room).
  const spam = olga.locator('.messages .message').filter({ hasText: 'Buy cheap stuff now' });
  await spam.hover();
  await spam.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Delete', exact: true }).click();
  await spam.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(pat.getByText('message removed by a moderator')).toBeVisible();

  // Olga wrote the room's first message: she owns it, and moderates the people in it.
  await olga.getByRole('button', { name: 'Moderate Pat' }).click();
  await olga.getByRole('group', { name: 'Actions on Pat' }).getByRole('button', { name: 'Ban' }).click();
  await expect(pat.getByRole('heading', { name: 'You are banned from this room' })).toBeVisible();
  await expect(storedMessage(pat, 'Welcome to town')).toHaveCount(0);
  await pat.screenshot({ path: `${shotsDir()}/rooms-banned.png` });
  await expect(olga.locator('.members')).toContainText('Pat');
  await olga.screenshot({ path: `${shotsDir()}/rooms-moderator-after-ban.png` });
  const serious = (await new AxeBuilder({ page: olga }).analyze()).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
});

test('a private room: create, invite by name, a muted member is told so, a removed one loses the room', async ({ parley, openPage }) => {
  const { page: olga } = await openPage();
  const { page: mia } = await openPage();
  const { page: gus } = await openPage();
  await signUpAt(olga, parley.url, 'Olga');
  await signUpAt(mia, parley.url, 'Mia');
  // A guest is told that private rooms need an account, and offered neither form.
  await gus.goto(parley.url);
  await gus.locator('#nick').fill('gus');
  await gus.locator('#nick').press('Enter');
  await expectLive(gus);
  await expect(gus.locator('.private-rooms')).toContainText('Guests cannot join private rooms or send direct messages');
  await expect(gus.getByRole('button', { name: 'New private room' })).toHaveCount(0);

  await createPrivateRoom(olga, 'Launch plans');
  await inviteByName(olga, 'nobody');
  await expect(olga.locator('#invite-error')).toHaveText('No account is called "nobody" (guests cannot join private rooms).');
  await olga.getByLabel('Username to invite').fill('mia');
  await olga.getByLabel('Username to invite').press('Enter');
  await expect(olga.locator('.members li')).toHaveText([/^Mia/, /^Olga \(you\) owner/]);
  const roomUrl = olga.url();

  await mia.goto(roomUrl);
  await expectLive(mia);
  await expect(mia.locator('.room-title')).toHaveText('🔒Private room Launch plans');
  await sendMessage(mia, 'Count me in');
  await olga.locator('.members').getByRole('button', { name: 'Moderate Mia' }).click();
  await olga.getByRole('group', { name: 'Actions on Mia' }).getByRole('button', { name: 'Mute' }).click();
  await expect(olga.locator('.members li').first()).toContainText('muted');
  await olga.screenshot({ path: `${shotsDir()}/rooms-private-room.png` });
  // Mia's page is told at once (a `rooms` push): the composer gives way to the notice, with no send refused.
  await expect(mia.getByText('A moderator muted you in this room: you can read it, but not post.')).toBeVisible();
  await expect(mia.locator('#composer-input')).toHaveCount(0);
  // The private room is listed once, under its title, not among the public rooms by its id.
  await expect(mia.locator('nav[aria-labelledby="rooms-heading"] .room-list li')).toHaveText(['# lobby']);
  await expect(privateList(mia).locator('.room-name')).toHaveText(['🔒 Private room Launch plans']);
  await mia.screenshot({ path: `${shotsDir()}/rooms-muted.png` });

  await olga.locator('.members').getByRole('button', { name: 'Moderate Mia' }).click();
  await olga.getByRole('group', { name: 'Actions on Mia' }).getByRole('button', { name: 'Remove from room' }).click();
  await expect(mia.getByRole('heading', { name: 'You are no longer in this room' })).toBeVisible();
  await expect(olga.locator('.members li')).toHaveText([/^Olga/]);
});

test('leaving a private room: a member who leaves is asked, and the room goes on; the last is told it goes with its messages, and its address finds nothing after', async ({ parley, openPage }) => {
  const { page: olga } = await openPage();
  const { page: mia } = await openPage();
  await signUpAt(olga, parley.url, 'Olga');
  await signUpAt(mia, parley.url, 'Mia');
  await createPrivateRoom(olga, 'Trip');
  await inviteByName(olga, 'mia');
  await expect(olga.locator('.members li')).toHaveText([/^Mia/, /^Olga \(you\) owner/]);
  await expectLive(olga);
  await sendMessage(olga, 'Flights are booked');
  const roomUrl = olga.url();

  /** Leaves the open room, answering the page's question with Yes; resolves with the question. */
  const leave = async (page: Page): Promise<string> => {
    const asked = new Promise<string>((resolve) => page.once('dialog', (dialog) => void dialog.accept().then(() => resolve(dialog.message()))));
    await page.locator('.room-actions').getByRole('button', { name: 'Leave' }).click();
    return asked;
  };

  await mia.goto(roomUrl);
  await expect(storedMessage(mia, 'Flights are booked')).toBeVisible();
  expect(await leave(mia)).toBe('Leave Trip? You need an invitation to come back.');
  await expect(mia.locator('.room-title')).toHaveText('#lobby');
  await expect(privateList(mia)).toHaveCount(0);

  expect(await leave(olga)).toBe('Leave Trip? You are its last member: the room is deleted, with its messages and files, for good.');
  await expect(olga.locator('.room-title')).toHaveText('#lobby');
  await expect(privateList(olga)).toHaveCount(0);
  await olga.goto(roomUrl);
  await expect(olga.getByRole('heading', { name: 'No such room' })).toBeVisible();
  await expect(storedMessage(olga, 'Flights are booked')).toHaveCount(0);
});
