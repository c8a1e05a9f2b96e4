// The process's logger: JSON lines for machines (systemd's journal, Docker, a file), readable lines for a
// person at a terminal. Message text is never logged at info level, only ids, counts and addresses.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config';

export function createLogger({ logLevel, logFormat }: Pick<Config, 'logLevel' | 'logFormat'>, forcePretty = false): Logger {
  const readable = forcePretty || logFormat === 'pretty' || (logFormat === 'auto' && process.stdout.isTTY === true);
  if (!readable) return pino({ level: logLevel });
  return pino({ level: logLevel }, pretty({ sync: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' }));
}
