// Rough edges a new user hit (issue 13): where the keyboard goes, the phone layout, the first visit's
// console, the nickname form, the room list, and what a server restart announces. Each acts as a user.
import type { Page } from '@playwright/test';
import { expect, expectLive, storedMessage, test } from './fixtures';

const shot = (page: Page, name: string) => page.screenshot({ path: `${test.info().project.outputDir}/screenshots/${name}.png` });

const sidebarRoom = (page: Page, room: string) => page.locator('.room-list a', { hasText: `# ${room}` });

/** Types right away, wherever the keyboard is, and presses Enter: the message must be sent and stored. */
async function typeAndSend(page: Page, text: string): Promise<void> {
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
  await expect(storedMessage(page, text)).toHaveCount(1);
}

test('the composer has the keyboard after picking a nickname and after joining a room from the sidebar', async ({ parley, openPage }) => {
  const { page } = await openPage();
  await page.goto(parley.url);
  await page.locator('#nick').fill('Ada');
  await page.locator('#nick').press('Enter');
  await expectLive(page);
  await typeAndSend(page, 'hello');

  // Joining a new room with the field in the sidebar.
  await page.locator('#room-switch').fill('Design Review');
  await page.locator('#room-switch').press('Enter');
  await expect(page).toHaveURL(/\/r\/design-review$/);
  await expectLive(page);
  await typeAndSend(page, 'in design');

  // Back to the lobby with its link.
  await sidebarRoom(page, 'lobby').click();
  await expect(page).toHaveURL(/\/$/);
  await expectLive(page);
  await typeAndSend(page, 'back in the lobby');
  await expect(page.locator('#composer-input')).toBeFocused();
});
