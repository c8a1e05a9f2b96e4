import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configHelp, loadConfig, loadDotEnv } from '../server/config';

describe('config', () => {
  it('has working defaults: port 8888 on loopback, the embedded store under ./data unless MongoDB answers', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8888, host: '127.0.0.1', store: 'auto', dataDir: './data', maxTextLength: 4000 });
    expect(config.mongodbUri).toBeUndefined();
  });

  it('stops on a bad value with one line naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/^PORT="eighty" is not valid/);
    expect(() => loadConfig({ MONGODB_URI: 'postgres://x' })).toThrow(/MONGODB_URI/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/^LOG_FORMAT="xml" is not valid/);
    expect(() => loadConfig({ GUESTS: 'maybe' })).toThrow(/^GUESTS="maybe" is not valid/);
    expect(() => loadConfig({ TRUST_PROXY: 'yes' })).toThrow(/^TRUST_PROXY="yes" is not valid/);
    expect(() => loadConfig({ SESSION_IDLE_DAYS: '0' })).toThrow(/^SESSION_IDLE_DAYS="0" is not valid/);
  });

  it('refuses a long-poll batch interval that a held request would outlast its deadline for', () => {
    expect(() => loadConfig({ LONGPOLL_BATCH_MS: '1000', WAIT_TIMEOUT_MS: '500' })).toThrow(/LONGPOLL_BATCH_MS=1000 is not shorter than WAIT_TIMEOUT_MS=500/);
    expect(loadConfig({ LONGPOLL_BATCH_MS: '400', WAIT_TIMEOUT_MS: '500' }).longPollBatchMs).toBe(400);
  });

  it('refuses a frame limit too small for the longest allowed message', () => {
    expect(() => loadConfig({ MAX_TEXT_LENGTH: '20000', MAX_FRAME_BYTES: '65536' })).toThrow(/MAX_FRAME_BYTES=65536 is too small for MAX_TEXT_LENGTH=20000/);
    expect(loadConfig({ MAX_TEXT_LENGTH: '20000', MAX_FRAME_BYTES: '200000' }).maxFrameBytes).toBe(200000);
  });

  it('refuses a buffer bound too small for a replay part to hold the longest allowed message', () => {
    expect(() => loadConfig({ MAX_BUFFERED_BYTES: '50047' })).toThrow(/MAX_BUFFERED_BYTES=50047 is too small for MAX_TEXT_LENGTH=4000: it needs at least 50048/);
    expect(loadConfig({ MAX_BUFFERED_BYTES: '50048' }).maxBufferedBytes).toBe(50048);
  });

  it('reads the budgets, per minute for new rooms, and refuses a socket byte budget below the largest frame', () => {
    expect(loadConfig({})).toMatchObject({
      newRoomRate: { burst: 10, perSecond: 10 / 60 },
      ipNewRoomRate: { burst: 30, perSecond: 30 / 60 },
      presenceRate: { burst: 30, perSecond: 5 },
      ipPresenceRate: { burst: 300, perSecond: 100 },
      maxPolledRooms: 10000,
      socketFrameRate: { burst: 100, perSecond: 20 },
      socketByteRate: { burst: 262144, perSecond: 262144 },
    });
    expect(() => loadConfig({ SOCKET_BYTES_PER_SECOND: '65535' })).toThrow(/SOCKET_BYTES_PER_SECOND=65535 is smaller than MAX_FRAME_BYTES=65536/);
  });

  it('reads the connection timeouts, host names and /metrics settings, and refuses ones that cannot work', () => {
    expect(loadConfig({})).toMatchObject({ headersTimeoutMs: 10000, requestTimeoutMs: 30000, keepAliveTimeoutMs: 5000, allowedHosts: [], metricsListen: undefined });
    expect(loadConfig({ ALLOWED_HOSTS: ' Chat.Example.com, * ' }).allowedHosts).toEqual(['chat.example.com', '*']);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'https://chat.example.com' })).toThrow(/^ALLOWED_HOSTS=.*without scheme or port/);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'chat.example.com:443' })).toThrow(/ALLOWED_HOSTS/);
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000' })).toThrow(/HEADERS_TIMEOUT_MS=40000 is longer than REQUEST_TIMEOUT_MS=30000/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN.*at least 16/);
    expect(() => loadConfig({ METRICS_PORT: '8888' })).toThrow(/METRICS_PORT=8888 is the chat's PORT/);
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it("bounds the guests of one IP by MAX_USER_FILE_BYTES unless MAX_GUEST_FILE_BYTES_PER_IP says otherwise (0: no guest files)", () => {
    expect(loadConfig({}).maxGuestFileBytesPerIp).toBe(500 * 1024 * 1024);
    expect(loadConfig({ MAX_USER_FILE_BYTES: '1000' }).maxGuestFileBytesPerIp).toBe(1000);
    expect(loadConfig({ MAX_USER_FILE_BYTES: '1000', MAX_GUEST_FILE_BYTES_PER_IP: '5000' })).toMatchObject({ maxUserFileBytes: 1000, maxGuestFileBytesPerIp: 5000 });
    expect(loadConfig({ MAX_GUEST_FILE_BYTES_PER_IP: '0' }).maxGuestFileBytesPerIp).toBe(0);
    expect(() => loadConfig({ MAX_GUEST_FILE_BYTES_PER_IP: '-1' })).toThrow(/^MAX_GUEST_FILE_BYTES_PER_IP="-1" is not valid/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', MONGODB_URI: '' })).toMatchObject({ port: 8888, mongodbUri: undefined });
  });

  it('--help lists every variable with its default', () => {
    const help = configHelp();
    for (const name of ['PORT', 'HOST', 'STORE', 'MONGODB_URI', 'DATA_DIR', 'LOG_LEVEL', 'WAIT_TIMEOUT_MS', 'MAX_TEXT_LENGTH', 'MAX_FRAME_BYTES']) {
      expect(help).toContain(name);
    }
    expect(help).toMatch(/PORT .*\(default 8888\)/);
  });

  it('reads a .env file, which the environment overrides; no file is no error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-env-'));
    const names = ['PARLEY_TEST_FROM_FILE', 'PARLEY_TEST_OVERRIDDEN'];
    try {
      expect(loadDotEnv(join(dir, '.env'))).toBe(false);
      await writeFile(join(dir, '.env'), 'PARLEY_TEST_FROM_FILE=file\nPARLEY_TEST_OVERRIDDEN=file\n');
      process.env.PARLEY_TEST_OVERRIDDEN = 'environment';
      expect(loadDotEnv(join(dir, '.env'))).toBe(true);
      expect(process.env.PARLEY_TEST_FROM_FILE).toBe('file');
      expect(process.env.PARLEY_TEST_OVERRIDDEN).toBe('environment');
    } finally {
      for (const name of names) delete process.env[name];
      await rm(dir, { recursive: true, force: true });
    }
  });
});
