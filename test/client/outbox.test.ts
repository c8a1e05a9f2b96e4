import { describe, expect, it } from 'vitest';
import { newClientId, Outbox } from '../../client/src/outbox';

/** The Web Storage API over a Map, as a browser's localStorage behaves. */
class MemoryStorage {
  private readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

describe('Outbox', () => {
  it('keeps unacknowledged messages across a reload, oldest first, per room', () => {
    const storage = new MemoryStorage();
    const before = new Outbox(storage);
    before.add({ clientId: 'aaaaaaaa1', room: 'lobby', text: 'first', author: 'Ana' });
    before.add({ clientId: 'aaaaaaaa2', room: 'dev', text: 'elsewhere', author: 'Ana' });
    before.add({ clientId: 'aaaaaaaa3', room: 'lobby', text: 'second', author: 'Ana' });

    const afterReload = new Outbox(storage);
    expect(afterReload.pending('lobby').map((m) => m.text)).toEqual(['first', 'second']);
    expect(afterReload.pending('dev').map((m) => m.text)).toEqual(['elsewhere']);
  });

  it('drops a message once acknowledged, and only that one', () => {
    const outbox = new Outbox(new MemoryStorage());
    outbox.add({ clientId: 'aaaaaaaa1', room: 'lobby', text: 'one', author: 'Ana' });
    outbox.add({ clientId: 'aaaaaaaa2', room: 'lobby', text: 'two', author: 'Ana' });
    expect(outbox.remove('aaaaaaaa1')).toBe(true);
    expect(outbox.remove('aaaaaaaa1')).toBe(false);
    expect(outbox.pending('lobby').map((m) => m.clientId)).toEqual(['aaaaaaaa2']);
  });

  it('two tabs sharing storage do not overwrite each other', () => {
    const storage = new MemoryStorage();
    const tabA = new Outbox(storage);
    const tabB = new Outbox(storage);
    tabA.add({ clientId: 'aaaaaaaa1', room: 'lobby', text: 'from A', author: 'Ana' });
    tabB.add({ clientId: 'bbbbbbbb1', room: 'lobby', text: 'from B', author: 'Ana' });
    tabB.remove('bbbbbbbb1');
    expect(tabA.pending('lobby').map((m) => m.text)).toEqual(['from A']);
  });

  it('a refused message stops being resent until the user retries it', () => {
    const outbox = new Outbox(new MemoryStorage());
    outbox.add({ clientId: 'aaaaaaaa1', room: 'lobby', text: 'x'.repeat(5000), author: 'Ana' });
    outbox.fail('aaaaaaaa1', { code: 'too_large', message: 'too long' });
    expect(outbox.pending('lobby')).toHaveLength(0);
    expect(outbox.forRoom('lobby')[0]?.state).toBe('failed');
    outbox.retry('aaaaaaaa1');
    expect(outbox.pending('lobby')).toHaveLength(1);
  });

  it('keeps a message\'s files across a reload and a retry, so that the resend carries them', () => {
    const storage = new MemoryStorage();
    const file = { id: 'q8Xv1nJ0b2TfS7kLw9aQ3c', name: 'photo.png', size: 1234, type: 'image/png', width: 40, height: 30 };
    new Outbox(storage).add({ clientId: 'aaaaaaaa1', room: 'lobby', text: '', author: 'Ana', files: [file] });
    const afterReload = new Outbox(storage);
    expect(afterReload.pending('lobby')[0]?.files).toEqual([file]);
    afterReload.fail('aaaaaaaa1', { code: 'store_unavailable', message: 'down' });
    afterReload.retry('aaaaaaaa1');
    expect(afterReload.pending('lobby')[0]?.files).toEqual([file]);
  });

  it('still works for the page when storage is unavailable', () => {
    const outbox = new Outbox(undefined);
    outbox.add({ clientId: 'aaaaaaaa1', room: 'lobby', text: 'kept in memory', author: 'Ana' });
    expect(outbox.pending('lobby').map((m) => m.text)).toEqual(['kept in memory']);
  });

  it('makes ids the server accepts, different every time', () => {
    const ids = new Set(Array.from({ length: 1000 }, newClientId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  });
});
