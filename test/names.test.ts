// Names nobody else can pass for (server/accounts/names.ts), and passwords (server/accounts/passwords.ts),
// on their own: the HTTP side is in test/accounts.test.ts.
import { describe, expect, it } from 'vitest';
import { checkName } from '../server/accounts/names';
import { hashPassword, verifyPassword } from '../server/accounts/passwords';

const keyOf = (name: string): string => {
  const checked = checkName(name, 'username');
  if ('problem' in checked) throw new Error(`${name}: ${checked.problem}`);
  return checked.key;
};

describe('names', () => {
  it('gives look-alikes of one name the same key: case, width, and letters of one other script that pass for Latin', () => {
    for (const alike of ['alice', 'ALICE', 'Ａｌｉｃｅ', 'AIice', 'A1ice', 'Аlісе'.normalize('NFC').replace('l', 'ӏ')]) {
      expect(keyOf(alike), alike).toBe(keyOf('Alice'));
    }
    expect(keyOf('ΒΟΒ')).toBe(keyOf('bob')); // all Greek: one script, so allowed, but it is taken if bob is
    expect(keyOf('rnallory')).toBe(keyOf('mallory'));
    expect(keyOf('Zoë')).not.toBe(keyOf('Zoe'));
  });

  it('folds case fully, however many rounds it takes, and reads vv as w', () => {
    expect(keyOf('STRAẞE')).toBe(keyOf('Straße'));
    expect(keyOf('strasse')).toBe(keyOf('Straße'));
    expect(keyOf('VVALTER')).toBe(keyOf('walter'));
  });

  it('allows a name whose letters share a script by their extensions, as Japanese long vowels do', () => {
    for (const name of ['ルーシー', 'ラーメン', 'すーぱー', '東京タワー']) expect(checkName(name, 'username'), name).toHaveProperty('key');
    expect(checkName('Аnnika', 'username')).toEqual({ problem: 'a username cannot mix scripts: "А" is Cyrillic and "n" is Latin' });
  });

  it("knows Unicode's whole confusables table, Latin look-alikes included, not only the common letters", () => {
    // Latin alpha, dotless i with a capital that is I, script-a Latin g, small capitals: each one script (Latin).
    for (const [alike, name] of [['ɑlice', 'alice'], ['bıll', 'bill'], ['ɡreg', 'greg'], ['ᴀlice', 'alice'], ['ꞵob', 'ßob']] as const) {
      expect(keyOf(alike), alike).toBe(keyOf(name));
    }
  });

  it('refuses invisible and blank characters, naming the one found', () => {
    expect(checkName('Alice\u3164', 'nickname')).toEqual({ problem: 'a nickname cannot contain invisible or blank characters (it has U+3164 HANGUL FILLER)' });
    expect(checkName('\u3164', 'nickname')).toEqual({ problem: 'a nickname cannot contain invisible or blank characters (it has U+3164 HANGUL FILLER)' });
    for (const char of ['\u115F', '\u1160', '\uFFA0', '\u200B', '\u200D', '\u200E', '\u2061', '\u2064', '\uFEFF', '\u00AD', '\u202E', '\u2066', '\u00A0', '\u2800']) {
      const checked = checkName(`Al${char}ice`, 'nickname');
      expect('problem' in checked && checked.problem, `U+${char.codePointAt(0)?.toString(16)}`).toMatch(/invisible or blank/);
    }
  });

  it('refuses a name that mixes scripts, and allows Japanese, which mixes by nature', () => {
    expect(checkName('Аlice', 'username')).toEqual({ problem: 'a username cannot mix scripts: "А" is Cyrillic and "l" is Latin' });
    expect(checkName('Bοb', 'username')).toEqual({ problem: 'a username cannot mix scripts: "B" is Latin and "ο" is Greek' });
    expect(checkName('山田たろう', 'username')).toEqual({ name: '山田たろう', key: '山田たろう' });
    expect(checkName('Алиса', 'username')).toMatchObject({ name: 'Алиса' });
  });

  it('shows a name as NFKC makes it', () => {
    expect(checkName('  Ａlice ', 'nickname')).toMatchObject({ name: 'Alice' });
  });
});

describe('passwords', () => {
  it('hashes with scrypt, N=2^15 r=8 p=1, a 16-byte salt and a 64-byte key, and verifies only the same password', async () => {
    const stored = await hashPassword('correct horse battery');
    const match = /^\$scrypt\$ln=15,r=8,p=1\$([\w-]+)\$([\w-]+)$/.exec(stored);
    expect(Buffer.from(match?.[1] ?? '', 'base64url')).toHaveLength(16);
    expect(Buffer.from(match?.[2] ?? '', 'base64url')).toHaveLength(64);
    expect(await hashPassword('correct horse battery')).not.toBe(stored); // a new salt each time
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery!', stored)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'not a hash')).toBe(false);
  });
});
