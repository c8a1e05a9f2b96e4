// Files in messages over real HTTP and WebSocket: an upload's type is read from its bytes, a file is served
// inert, limits per file, per message and per person hold (a body over them refused before it is read
// whole), the guests of one address share one bound however many guests it makes, only the uploader's
// unsent uploads to the room can be sent, a room's files are refused to whom may not read it, and deleting a
// message deletes its files.
import { readdir } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { deleteMessageFiles, sweepExpiredUploads } from '../server/files/files';
import type { ChatMessage, ErrorResponse, SendResponse, UploadResponse } from '../server/protocol';
import { loadConfig } from '../server/config';
import { autoCleanup, createSession, history, http, newClientId, postMessage, signUp, startTestServer, TestSocket, withTimeout, type HttpAnswer } from './helpers';

// The one place the room's membership is asked (server/files/access.ts): "mallory" is no member of any
// room here. The merger swaps this check for roomAccess, and this test for one with a private room.
vi.mock('../server/files/access', () => ({
  mayReadFiles: async (_ctx: unknown, session: { nick: string } | undefined) => session?.nick !== 'mallory',
  mayUploadFiles: async (_ctx: unknown, session: { nick: string }) => session.nick !== 'mallory',
}));

autoCleanup();

/** The smallest PNG: a 1x1 transparent pixel. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const HTML = Buffer.from('<!doctype html><script>alert(document.cookie)</script>');

function upload(base: string, room: string, body: Buffer, cookie: string, query: Record<string, string> = {}): Promise<HttpAnswer<UploadResponse & ErrorResponse>> {
  const search = new URLSearchParams({ name: 'file.bin', ...query });
  return http(base, 'POST', `/api/rooms/${room}/files?${search}`, { raw: body, cookie, headers: { 'content-type': 'application/octet-stream' } });
}

async function uploaded(base: string, room: string, body: Buffer, cookie: string, query: Record<string, string> = {}): Promise<UploadResponse> {
  const answer = await upload(base, room, body, cookie, query);
  if (answer.status !== 201) throw new Error(`upload answered ${answer.status}: ${answer.text}`);
  return answer.body;
}

/** Sends headers announcing `declared` bytes and then only `send` of them, keeping the body open: the answer, and whether the server closed. */
function partialUpload(base: string, path: string, cookie: string, headers: Record<string, string>, send: Buffer[]): Promise<{ status: number; body: ErrorResponse; bytesSent: number }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      let bytesSent = 0;
      const req = request(new URL(path, base), { method: 'POST', agent: false, headers: { cookie, 'content-type': 'application/octet-stream', ...headers } });
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as ErrorResponse, bytesSent });
          req.destroy();
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
      });
      req.flushHeaders();
      for (const chunk of send) {
        bytesSent += chunk.length;
        req.write(chunk);
      }
    }),
    5000,
    'the answer to an upload whose body never ends',
  );
}

/**
 * Streams a chunked body of `total` bytes, a chunk at a time as the connection takes them, until the server
 * answers or closes: the answer, and how many bytes the client got to send before that.
 */
function streamUpload(base: string, path: string, cookie: string, total: number): Promise<{ status: number; bytesSent: number }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      let bytesSent = 0;
      let over = false;
      let wake: () => void = () => undefined;
      const req = request(new URL(path, base), { method: 'POST', agent: false, headers: { cookie, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } });
      req.on('response', (res: IncomingMessage) => {
        over = true;
        wake();
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytesSent }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        over = true;
        wake();
        if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
      });
      const chunk = Buffer.alloc(64 * 1024, 1);
      void (async () => {
        while (!over && bytesSent < total) {
          bytesSent += chunk.length;
          if (!req.write(chunk)) await new Promise<void>((resolve) => ((wake = resolve), req.once('drain', resolve)));
        }
        if (!over) req.end();
      })();
    }),
    10_000,
    'the answer to a streamed upload',
  );
}

/**
 * Starts a chunked upload that sends `first` and then waits: `finish` sends `rest`, ends the body and resolves
 * with the answer (which may come before, if the server refuses the upload as `first` arrives).
 */
function heldUpload(base: string, path: string, cookie: string, first: Buffer): { finish: (rest: Buffer) => Promise<{ status: number; body: ErrorResponse }> } {
  const req = request(new URL(path, base), { method: 'POST', agent: false, headers: { cookie, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } });
  const answer = withTimeout(
    new Promise<{ status: number; body: ErrorResponse }>((resolve, reject) => {
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as ErrorResponse }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
      });
    }),
    5000,
    'the answer to an upload held open',
  );
  req.write(first);
  return {
    finish: (rest) => {
      if (!req.destroyed) req.end(rest);
      return answer;
    },
  };
}

async function send(base: string, room: string, cookie: string, body: { text: string; files?: string[]; clientId?: string }): Promise<HttpAnswer<SendResponse & ErrorResponse>> {
  return postMessage<SendResponse & ErrorResponse>(base, room, { clientId: newClientId(), ...body }, cookie);
}

describe('uploading and serving files', () => {
  it('reads the type from the bytes, not the name, and stamps the message with the file', async () => {
    const { url } = await startTestServer();
    const alice = await createSession(url, 'alice');
    const { file, url: fileUrl } = await uploaded(url, 'lobby', PNG, alice, { name: 'holiday.txt', width: '1', height: '1' });
    expect(file).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), name: 'holiday.txt', size: PNG.length, type: 'image/png', width: 1, height: 1 });
    expect(fileUrl).toBe(`/files/${file.id}/holiday.txt`);

    const sent = await send(url, 'lobby', alice, { text: '', files: [file.id] });
    expect(sent.status).toBe(201);
    expect(sent.body.message.files).toEqual([file]);
    expect((await history(url, 'lobby')).messages.map((m) => m.files)).toEqual([[file]]);

    const served = await http(url, 'GET', fileUrl);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.headers['content-disposition']).toBe(`inline; filename="holiday.txt"; filename*=UTF-8''holiday.txt`);
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    // The browser's image viewer styles itself inline; nothing else is allowed.
    expect(served.headers['content-security-policy']).toBe("sandbox; default-src 'none'; style-src 'unsafe-inline'");
    expect(served.headers['cache-control']).toBe('private, max-age=86400');
    expect(Buffer.from(served.text, 'latin1').length).toBeGreaterThan(0);
  });

  it('serves an HTML or SVG file, whatever its name, as a text download in a sandbox', async () => {
    const { url } = await startTestServer();
    const alice = await createSession(url, 'alice');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>');
    for (const [body, name] of [
      [HTML, 'page.html'],
      [HTML, 'innocent.png'],
      [svg, 'logo.svg'],
    ] as const) {
      const { file, url: fileUrl } = await uploaded(url, 'lobby', body, alice, { name, width: '10', height: '10' });
      expect(file.type).toBe('text/plain');
      expect(file.width).toBeUndefined();
      const served = await http(url, 'GET', fileUrl);
      expect(served.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(served.headers['content-disposition']).toMatch(/^attachment; /);
      expect(served.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
      expect(served.headers['x-content-type-options']).toBe('nosniff');
      expect(served.text).toBe(body.toString());
    }
  });

  it('offers a name that is not ASCII in both forms, and cleans a path or control characters out of it', async () => {
    const { url } = await startTestServer();
    const alice = await createSession(url, 'alice');
    const { file, url: fileUrl } = await uploaded(url, 'lobby', Buffer.from('hello'), alice, { name: '../../etc/Übersicht\u202e (1).txt' });
    expect(file.name).toBe('Übersicht (1).txt');
    const served = await http(url, 'GET', fileUrl);
    expect(served.headers['content-disposition']).toBe(`attachment; filename="_bersicht (1).txt"; filename*=UTF-8''%C3%9Cbersicht%20%281%29.txt`);
  });

  it('answers 404 for a file that does not exist, and 401 to an upload without a session', async () => {
    const { url } = await startTestServer();
    expect((await http(url, 'GET', '/files/AAAAAAAAAAAAAAAAAAAAAA/x.txt')).status).toBe(404);
    expect((await http(url, 'GET', '/files/..%2F..%2Fparley.lmdb/x')).status).toBe(404);
    const answer = await http<ErrorResponse>(url, 'POST', '/api/rooms/lobby/files?name=a.txt', { raw: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(answer.status).toBe(401);
  });
});

describe('limits', () => {
  it('refuses a file over MAX_FILE_BYTES from its Content-Length, before any of its body is sent', async () => {
    const { url, dataDir } = await startTestServer({ MAX_FILE_BYTES: '1000' });
    const alice = await createSession(url, 'alice');
    const answer = await partialUpload(url, '/api/rooms/lobby/files?name=big.bin', alice, { 'content-length': '1001' }, []);
    expect(answer).toMatchObject({ status: 413, bytesSent: 0, body: { error: { code: 'too_large' } } });
    expect(await readdir(join(dataDir, 'files', 'tmp'))).toEqual([]);
  });

  it('cuts off a chunked body once it passes MAX_FILE_BYTES, without waiting for its end, and keeps nothing', async () => {
    const { url, server, dataDir } = await startTestServer({ MAX_FILE_BYTES: '100000' });
    const alice = await createSession(url, 'alice');
    // 100,001 bytes, and the body never ends: only a server that stops at the limit can answer.
    const answer = await partialUpload(url, '/api/rooms/lobby/files?name=big.bin', alice, { 'transfer-encoding': 'chunked' }, [Buffer.alloc(60_000, 1), Buffer.alloc(40_001, 1)]);
    expect(answer).toMatchObject({ status: 413, bytesSent: 100_001, body: { error: { code: 'too_large' } } });
    const sessionUser = (await server.store.accounts.userByKey('alice'))?.id ?? '';
    expect(await server.store.files.usage(sessionUser)).toEqual({ files: 0, bytes: 0, unattached: 0 });
    expect((await readdir(join(dataDir, 'files'))).filter((name) => name !== 'tmp')).toEqual([]);
  });

  it('stops reading a chunked body of 64 MB soon after it passes a limit of 1 MB', async () => {
    const { url } = await startTestServer({ MAX_FILE_BYTES: String(1024 * 1024) });
    const alice = await createSession(url, 'alice');
    const total = 64 * 1024 * 1024;
    const answer = await streamUpload(url, '/api/rooms/lobby/files?name=big.bin', alice, total);
    // What the client got to send is the limit, plus what the two kernels' socket buffers took meanwhile.
    console.log(`[files] a chunked upload over a 1 MiB limit: refused after the client sent ${answer.bytesSent} of ${total} bytes`);
    expect(answer.status).toBe(413);
    expect(answer.bytesSent).toBeLessThan(total / 4);
  });

  it('holds each person to MAX_USER_FILE_BYTES (before reading, from the Content-Length) and MAX_PENDING_FILES', async () => {
    // Guests of one address, with room enough for both of them together: each is held to its own bound here.
    const { url } = await startTestServer({ MAX_USER_FILE_BYTES: '1000', MAX_PENDING_FILES: '2', MAX_GUEST_FILE_BYTES_PER_IP: '10000' });
    const alice = await createSession(url, 'alice');
    const bob = await createSession(url, 'bob');
    const first = await uploaded(url, 'lobby', Buffer.alloc(600, 'a'), alice);
    const over = await partialUpload(url, '/api/rooms/lobby/files?name=more.txt', alice, { 'content-length': '500' }, []);
    expect(over).toMatchObject({ status: 413, bytesSent: 0, body: { error: { code: 'quota_exceeded' } } });
    // Chunked, the same limit cuts the body off as it passes.
    const chunked = await partialUpload(url, '/api/rooms/lobby/files?name=more.txt', alice, { 'transfer-encoding': 'chunked' }, [Buffer.alloc(401, 'a')]);
    expect(chunked).toMatchObject({ status: 413, body: { error: { code: 'quota_exceeded' } } });
    // Another person has their own allowance.
    await uploaded(url, 'lobby', Buffer.alloc(600, 'b'), bob);

    await uploaded(url, 'lobby', Buffer.alloc(100, 'a'), alice);
    const third = await upload(url, 'lobby', Buffer.alloc(10, 'a'), alice);
    expect(third.status).toBe(413);
    expect(third.body.error.message).toMatch(/2 uploads waiting to be sent/);
    // Sending one frees its place in the waiting uploads, not its bytes.
    expect((await send(url, 'lobby', alice, { text: 'the file', files: [first.file.id] })).status).toBe(201);
    expect((await upload(url, 'lobby', Buffer.alloc(300, 'a'), alice)).status).toBe(201);
    expect((await upload(url, 'lobby', Buffer.alloc(1, 'a'), alice)).body.error.code).toBe('quota_exceeded');
  });

  it('refuses a message with more than MAX_FILES_PER_MESSAGE files, and a message with neither text nor files', async () => {
    const { url } = await startTestServer({ MAX_FILES_PER_MESSAGE: '2' });
    const alice = await createSession(url, 'alice');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await uploaded(url, 'lobby', Buffer.from(`file ${i}`), alice)).file.id);
    const tooMany = await send(url, 'lobby', alice, { text: 'three', files: ids });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error.message).toMatch(/at most 2 files/);
    const empty = await send(url, 'lobby', alice, { text: '  ' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/cannot be empty/);
    expect((await send(url, 'lobby', alice, { text: '', files: ids.slice(0, 2) })).status).toBe(201);
  });
});

describe('sending files', () => {
  it('sends only the session\'s own unsent uploads to the room, and a resend gets the original', async () => {
    const { url, wsUrl } = await startTestServer();
    const alice = await createSession(url, 'alice');
    const bob = await createSession(url, 'bob');
    const { file } = await uploaded(url, 'lobby', Buffer.from('minutes'), alice, { name: 'minutes.txt' });
    const elsewhere = await uploaded(url, 'other', Buffer.from('x'), alice);

    expect((await send(url, 'lobby', bob, { text: 'mine now', files: [file.id] })).body.error.message).toMatch(/not uploaded by this session/);
    expect((await send(url, 'lobby', alice, { text: 'wrong room', files: [elsewhere.file.id] })).body.error.message).toMatch(/another room/);

    // Over WebSocket, as the page sends.
    const socket = await TestSocket.open(wsUrl, alice);
    const clientId = newClientId();
    socket.send({ type: 'send', room: 'lobby', clientId, text: 'the minutes', files: [file.id] });
    const ack = await socket.next((f): f is Extract<typeof f, { type: 'ack' }> => f.type === 'ack');
    expect(ack.message.files).toEqual([file]);
    const resend = await send(url, 'lobby', alice, { clientId, text: 'the minutes', files: [file.id] });
    expect(resend.status).toBe(200);
    expect(resend.body).toMatchObject({ duplicate: true, message: { seq: ack.message.seq, files: [file] } });
    const again = await send(url, 'lobby', alice, { text: 'twice', files: [file.id] });
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/already sent with another message/);
  });
});

describe('who may fetch', () => {
  it('refuses the files of a room to whom may not read it, as if they did not exist', async () => {
    const { url } = await startTestServer();
    const alice = await createSession(url, 'alice');
    const mallory = await createSession(url, 'mallory');
    const { url: fileUrl } = await uploaded(url, 'lobby', PNG, alice);
    expect((await http(url, 'GET', fileUrl, { cookie: alice })).status).toBe(200);
    const refused = await http<ErrorResponse>(url, 'GET', fileUrl, { cookie: mallory });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('not_found');
    expect((await upload(url, 'lobby', PNG, mallory)).status).toBe(404);
  });
});

describe('the guests of one address', () => {
  const guestsRefusal = /guests on your network .*sign up for an account to have a quota of your own/;

  it('share MAX_GUEST_FILE_BYTES_PER_IP (refused before the body is read), an account there keeps its own quota, and deleting frees theirs', async () => {
    const { url } = await startTestServer({ MAX_USER_FILE_BYTES: '1000', MAX_GUEST_FILE_BYTES_PER_IP: '1500' });
    const alice = await createSession(url, 'alice');
    const bob = await createSession(url, 'bob');
    const carol = await createSession(url, 'carol');
    const first = await uploaded(url, 'lobby', Buffer.alloc(900, 'a'), alice);
    const sent = await send(url, 'lobby', alice, { text: 'the file', files: [first.file.id] });
    await uploaded(url, 'lobby', Buffer.alloc(500, 'b'), bob);

    const over = await partialUpload(url, '/api/rooms/lobby/files?name=more.txt', carol, { 'content-length': '200' }, []);
    expect(over).toMatchObject({ status: 413, bytesSent: 0, body: { error: { code: 'quota_exceeded' } } });
    expect(over.body.error.message).toMatch(guestsRefusal);
    expect((await upload(url, 'lobby', Buffer.alloc(100, 'c'), carol)).status).toBe(201);
    const full = await upload(url, 'lobby', Buffer.alloc(1, 'c'), carol);
    expect(full.status).toBe(413);
    expect(full.body.error.message).toMatch(guestsRefusal);

    // An account at the same address holds its own MAX_USER_FILE_BYTES.
    const dana = await signUp(url, 'Dana');
    expect((await upload(url, 'lobby', Buffer.alloc(1000, 'd'), dana)).status).toBe(201);

    // Alice deletes her message: its file's bytes are the address's guests' again.
    expect((await postMessage(url, 'lobby', { clientId: newClientId(), change: { kind: 'delete', target: sent.body.message.seq } }, alice)).status).toBe(201);
    expect((await upload(url, 'lobby', Buffer.alloc(200, 'c'), carol)).status).toBe(201);
  });

  it('stay bounded after a restart: the bound is counted from the files stored', async () => {
    const env = { MAX_USER_FILE_BYTES: '1000' };
    const first = await startTestServer(env);
    const alice = await createSession(first.url, 'alice');
    const file = await uploaded(first.url, 'lobby', Buffer.alloc(1000, 'a'), alice);
    expect((await send(first.url, 'lobby', alice, { text: 'mine', files: [file.file.id] })).status).toBe(201);
    await first.close();

    const again = await startTestServer(env, first.dataDir);
    const bob = await createSession(again.url, 'bob');
    const refused = await upload(again.url, 'lobby', Buffer.alloc(1, 'b'), bob);
    expect(refused.status).toBe(413);
    expect(refused.body.error).toMatchObject({ code: 'quota_exceeded', retryable: false, message: expect.stringContaining('already hold 1000 bytes of files') });
  });

  it('cannot both pass the bound with uploads streamed side by side: the one that would pass it is refused', async () => {
    const { url, server } = await startTestServer({ MAX_USER_FILE_BYTES: '1000' });
    const alice = await createSession(url, 'alice');
    const bob = await createSession(url, 'bob');
    // Alice's upload is under way (600 bytes in, more to come) when Bob's, of 600, is stored whole.
    const slow = heldUpload(url, '/api/rooms/lobby/files?name=slow.bin', alice, Buffer.alloc(600, 'a'));
    const quick = await uploaded(url, 'lobby', Buffer.alloc(600, 'b'), bob);
    const answer = await slow.finish(Buffer.alloc(100, 'a'));
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('quota_exceeded');
    expect(answer.body.error.message).toMatch(guestsRefusal);
    expect((await http(url, 'GET', quick.url, { cookie: bob })).status).toBe(200);
    expect(await server.store.files.guestUsage('127.0.0.1')).toEqual({ files: 1, bytes: 600, unattached: 1 });
  });

  it('may hold nothing with MAX_GUEST_FILE_BYTES_PER_IP=0: guests are told to sign up, accounts upload', async () => {
    const { url } = await startTestServer({ MAX_GUEST_FILE_BYTES_PER_IP: '0' });
    const refused = await upload(url, 'lobby', Buffer.from('hello'), await createSession(url, 'alice'));
    expect(refused.status).toBe(413);
    expect(refused.body.error).toMatchObject({ code: 'quota_exceeded', message: 'guests cannot upload files on this server: sign up for an account to send files' });
    expect((await upload(url, 'lobby', Buffer.from('hello'), await signUp(url, 'Dana'))).status).toBe(201);
  });
});

describe('deleting', () => {
  it('deletes a message\'s files when the message is deleted, freeing its author\'s bytes', async () => {
    const { url, server } = await startTestServer({ MAX_USER_FILE_BYTES: '1000' });
    const alice = await createSession(url, 'alice');
    const a = await uploaded(url, 'lobby', Buffer.alloc(500, 'a'), alice);
    const b = await uploaded(url, 'lobby', Buffer.alloc(500, 'b'), alice);
    const sent = await send(url, 'lobby', alice, { text: 'two files', files: [a.file.id, b.file.id] });
    expect((await upload(url, 'lobby', Buffer.from('c'), alice)).status).toBe(413);

    const message: ChatMessage = sent.body.message;
    const deleted = await postMessage(url, 'lobby', { clientId: newClientId(), change: { kind: 'delete', target: message.seq } }, alice);
    expect(deleted.status).toBe(201);
    expect((await http(url, 'GET', a.url)).status).toBe(404);
    expect((await http(url, 'GET', b.url)).status).toBe(404);
    // The stored message no longer names them, and the bytes are the author's again.
    const [stored] = (await history(url, 'lobby')).messages;
    expect(stored).toMatchObject({ seq: message.seq, deleted: 'author', text: '' });
    expect(stored?.files).toBeUndefined();
    expect((await upload(url, 'lobby', Buffer.from('c'), alice)).status).toBe(201);
    // Twice is harmless (a delete entry replayed, or deleted twice).
    await deleteMessageFiles({ store: server.store }, message);
  });

  it('sweeps uploads not sent within UPLOAD_TTL_MINUTES, and leaves sent ones', async () => {
    const { url, server, dataDir } = await startTestServer({ UPLOAD_TTL_MINUTES: '1' });
    const alice = await createSession(url, 'alice');
    const kept = await uploaded(url, 'lobby', Buffer.from('sent'), alice);
    await send(url, 'lobby', alice, { text: 'sent', files: [kept.file.id] });
    const dropped = await uploaded(url, 'lobby', Buffer.from('never sent'), alice);
    const config = loadConfig({ DATA_DIR: dataDir, UPLOAD_TTL_MINUTES: '1' });
    expect(await sweepExpiredUploads({ store: server.store, config }, Date.now())).toBe(0);
    expect(await sweepExpiredUploads({ store: server.store, config }, Date.now() + 61_000)).toBe(1);
    expect((await http(url, 'GET', dropped.url)).status).toBe(404);
    expect((await http(url, 'GET', kept.url)).status).toBe(200);
  });
});
