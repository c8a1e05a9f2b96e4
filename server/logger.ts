// The process's logger: JSON lines for machines (systemd's journal, Docker, a file), readable lines for a
// person at a terminal. Message text is never logged at info level, only ids, counts and addresses.
import { destination, pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config';

export function createLogger({ logLevel, logFormat }: Pick<Config, 'logLevel' | 'logFormat'>, forcePretty = false): Logger {
  const readable = forcePretty || logFormat === 'pretty' || (logFormat === 'auto' && process.stdout.isTTY === true);
  // Written synchronously, line by line, like the readable lines below. pino's default asynchronous
  // destination flushes what is still pending when the process exits, and that flush retries a write to a
  // closed pipe forever: after `npm start | head -2`, SIGTERM never ended the process. A synchronous
  // write meets the closed pipe at once instead (EPIPE), and pino then stops logging.
  if (!readable) return pino({ level: logLevel }, destination({ dest: 1, sync: true }));
  return pino({ level: logLevel }, pretty({ sync: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' }));
}
