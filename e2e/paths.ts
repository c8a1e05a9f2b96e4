// Where the built client lives. Kept free of server imports so the global setup can check it cheaply.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const clientDir = fileURLToPath(new URL('../dist/client', import.meta.url));

export function assertClientBuilt(): void {
  if (!existsSync(`${clientDir}/index.html`)) {
    throw new Error(`The client is not built (${clientDir}/index.html is missing): run npm run build first.`);
  }
}
