// A port that was free a moment ago, for a server started as a child process (tests, e2e, the bench).
// No test framework here: Playwright specs and the bench import it too.
import { createServer } from 'node:net';

/** Listens on 0, notes the port, closes. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
