import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const page = (name: string) => fileURLToPath(new URL(`client/${name}`, import.meta.url));

// The client lives in client/ and is built into dist/client, which the server serves: the app (index.html)
// and the page a browser gets for an address that is no page (404.html, no script, the app's stylesheet).
export default defineConfig({
  root: 'client',
  plugins: [preact()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    rollupOptions: { input: { index: page('index.html'), notFound: page('404.html') } },
  },
});
