// The field that joins or creates a room: it shows the name it will make as the user types, spells accented
// letters in ASCII, and says why when what was typed makes no name, instead of only turning red.
import { expect, expectLive, joinChat, shot, test } from './fixtures';

test('typing "Ünïcode Räum" previews #unicode-raum and opens it; "!!!" and "Чат" say why they make no name', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await joinChat(page, parley.url, 'Ana');
  const field = page.getByLabel('Join or create a room');
  const alert = page.getByRole('alert');

  await field.pressSequentially('Ünïcode Räum');
  await expect(page.locator('#room-switch-preview')).toHaveText('→ #unicode-raum');
  await expect(field).toHaveAccessibleDescription('→ #unicode-raum');
  await shot(page, 'join-preview');
  await field.press('Enter');
  await expect(page).toHaveURL(`${parley.url}/r/unicode-raum`);
  await expect(page.locator('h1.room-title')).toHaveText('#unicode-raum');
  await expect(field).toHaveValue('');
  await expect(page.locator('#room-switch-preview')).toHaveCount(0);
  await expectLive(page);

  // Nothing to make a name of: no preview while typing, and a message, not just a red border, on Enter.
  await field.pressSequentially('!!!');
  await expect(page.locator('#room-switch-preview')).toHaveCount(0);
  await expect(alert).toHaveCount(0);
  await field.press('Enter');
  await expect(alert).toHaveText('A room name needs a letter or a digit (a-z, 0-9).');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAccessibleDescription('A room name needs a letter or a digit (a-z, 0-9).');
  await expect(page).toHaveURL(`${parley.url}/r/unicode-raum`);

  // A script with no ASCII spelling is refused with the reason, as the user edits.
  await field.fill('Чат');
  await expect(alert).toHaveText('Room names are written with a-z, 0-9, - and _: type “Чат” in Latin letters.');
  await shot(page, 'join-error');

  await field.fill('chat');
  await expect(alert).toHaveCount(0);
  await expect(field).not.toHaveAttribute('aria-invalid');
  await expect(page.locator('#room-switch-preview')).toHaveText('→ #chat');
  await field.press('Enter');
  await expect(page).toHaveURL(`${parley.url}/r/chat`);
  await expect(page.locator('h1.room-title')).toHaveText('#chat');
});
