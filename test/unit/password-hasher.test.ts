// Argon2id in workerd: PHC format, hashes made by other implementations, rehash signals, flat memory.
import { describe, expect, it } from 'vitest';
import {
  hasherMemoryBytes,
  OWASP_ARGON2ID,
  PasswordHasher,
  parsePhc,
} from '../../src/services/auth/password-hasher';

// Made by @node-rs/argon2 (the native reference implementation), not by our code.
const NATIVE_OWASP =
  '$argon2id$v=19$m=19456,t=2,p=1$TwnbhBpmm1sbVID32VXp9Q$UxQybbRFTNmiis8nzf3cO+jusA6Qm2eMbM9wrTWUjgw';
// passlib's argon2 defaults (m=64 MiB, t=3, p=4), as the FastAPI seed stored them.
const NATIVE_PASSLIB_DEFAULTS =
  '$argon2id$v=19$m=65536,t=3,p=4$6d8pSi3+X0nKQ8wL0wJQuA$j8Cg7OzWyHs11/ldsACuO4dL9+pbs47FtZlw7VfXhIE';
const NATIVE_SHORT_TAG = '$argon2id$v=19$m=4096,t=1,p=1$o8/W0+mv6wucOmoifvyryw$1SBEUqkgpCVqI/GIGjw8iw';

const hasher = new PasswordHasher();

describe('PasswordHasher', () => {
  it('hashes to a PHC string with the OWASP parameters and a random salt', async () => {
    const first = await hasher.hash('correct horse battery');
    const second = await hasher.hash('correct horse battery');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(second).not.toBe(first);
    expect(await hasher.verify(first, 'correct horse battery')).toEqual({ ok: true, needsRehash: false });
    expect(await hasher.verify(first, 'correct horse batterY')).toEqual({ ok: false, needsRehash: false });
  });

  it('verifies hashes made by the native implementation, with any parameters', async () => {
    expect(await hasher.verify(NATIVE_OWASP, 'correct horse battery')).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect(await hasher.verify(NATIVE_PASSLIB_DEFAULTS, 'legacy-passlib-pw')).toEqual({
      ok: true,
      needsRehash: true,
    });
    expect(await hasher.verify(NATIVE_SHORT_TAG, 'pässwörd 🚀 long')).toEqual({
      ok: true,
      needsRehash: true,
    });
    expect(await hasher.verify(NATIVE_PASSLIB_DEFAULTS, 'legacy-passlib-PW')).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it('asks for a rehash when the configured parameters changed', async () => {
    const weaker = new PasswordHasher({ memoryKiB: 4096, passes: 1, parallelism: 1 });
    const old = await weaker.hash('rotate me please');
    expect(await hasher.verify(old, 'rotate me please')).toEqual({ ok: true, needsRehash: true });
  });

  it('fails closed on missing, malformed or abusive stored hashes', async () => {
    expect(await hasher.verify(null, 'whatever123')).toEqual({ ok: false, needsRehash: false });
    expect(await hasher.verify('$2b$12$bcrypt-is-not-supported', 'whatever123')).toEqual({
      ok: false,
      needsRehash: false,
    });
    expect(parsePhc('$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$dGFn')).toBeNull();
    expect(parsePhc('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$dGFn')).toBeNull();
    expect(parsePhc('$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$dGFn')).toBeNull();
    expect(parsePhc(NATIVE_OWASP)?.params).toEqual(OWASP_ARGON2ID);
  });

  it('treats a short wrong password as a failed match, not an error', async () => {
    expect(await hasher.verify(NATIVE_OWASP, 'short')).toEqual({ ok: false, needsRehash: false });
  });

  it('reuses one WASM memory: its size does not change over hundreds of hashes', async () => {
    await hasher.hash('warm up the instance');
    const before = await hasherMemoryBytes();
    const cheap = new PasswordHasher({ memoryKiB: OWASP_ARGON2ID.memoryKiB, passes: 1, parallelism: 1 });
    for (let i = 0; i < 300; i++) await cheap.hash(`password number ${i}`);
    expect(await hasherMemoryBytes()).toBe(before);
  }, 120_000);
});
