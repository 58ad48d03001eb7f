// Argon2id password hashing in WebAssembly, inside workerd. Hashes are PHC strings, so hashes made
// elsewhere (passlib, libsodium, node-argon2) verify, and stronger parameters apply on next login.
import noSimdModule from 'argon2id/dist/no-simd.wasm';
import simdModule from 'argon2id/dist/simd.wasm';
import argon2id from 'argon2id/lib/argon2id.js';
import { constantTimeEqual, fromBase64, randomBytes, toBase64 } from '../../lib/crypto';

export interface Argon2Params {
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

/** OWASP's recommended Argon2id configuration (m=19 MiB, t=2, p=1). */
export const OWASP_ARGON2ID: Argon2Params = { memoryKiB: 19_456, passes: 2, parallelism: 1 };

const SALT_BYTES = 16;
const TAG_BYTES = 32;
// Parameters we refuse to run when verifying a stored hash, so a corrupted row cannot exhaust memory.
const MAX_MEMORY_KIB = 65_536;
const MAX_PASSES = 10;
// The WASM build needs at least 8 bytes of password; shorter ones can only fail.
const MIN_PASSWORD_BYTES = 8;

// The WASM build declares a minimum of 1040 pages (65 MiB); it grows only if parameters need more.
const INITIAL_PAGES = 1040;

interface Argon2Wasm {
  memory: WebAssembly.Memory;
  instance: WebAssembly.Instance;
}

// One WASM instance and one memory per isolate, created on first use (not at startup, which must
// stay under a second) and reused for every hash: a fresh instance per hash leaks its memory in workerd.
let wasm: Promise<Argon2Wasm> | undefined;

function loadWasm(): Promise<Argon2Wasm> {
  wasm ??= (async () => {
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: 65_536 });
    const imports = { env: { memory } };
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(simdModule, imports);
    } catch {
      instance = await WebAssembly.instantiate(noSimdModule, imports);
    }
    return { memory, instance };
  })();
  return wasm;
}

const encoder = new TextEncoder();

interface ParsedHash {
  params: Argon2Params;
  version: number;
  salt: Uint8Array;
  tag: Uint8Array;
}

export function parsePhc(phc: string): ParsedHash | null {
  const match = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(
    phc,
  );
  if (!match) return null;
  const [, version, m, t, p, salt, tag] = match;
  const params = { memoryKiB: Number(m), passes: Number(t), parallelism: Number(p) };
  if (Number(version) !== 19 || params.memoryKiB > MAX_MEMORY_KIB || params.passes > MAX_PASSES) return null;
  if (params.parallelism < 1 || params.parallelism > 16 || params.passes < 1) return null;
  return { params, version: Number(version), salt: fromBase64(salt!), tag: fromBase64(tag!) };
}

function formatPhc(params: Argon2Params, salt: Uint8Array, tag: Uint8Array): string {
  const b64 = (bytes: Uint8Array) => toBase64(bytes, { pad: false });
  return `$argon2id$v=19$m=${params.memoryKiB},t=${params.passes},p=${params.parallelism}$${b64(salt)}$${b64(tag)}`;
}

async function derive(password: Uint8Array, salt: Uint8Array, params: Argon2Params, tagLength: number) {
  return argon2id(
    {
      password,
      salt,
      memorySize: params.memoryKiB,
      passes: params.passes,
      parallelism: params.parallelism,
      tagLength,
    },
    await loadWasm(),
  );
}

export interface VerifyResult {
  ok: boolean;
  /** The hash was made with other parameters than the current ones: store a fresh hash. */
  needsRehash: boolean;
}

export class PasswordHasher {
  private dummy: Promise<string> | undefined;

  constructor(readonly params: Argon2Params = OWASP_ARGON2ID) {}

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    return formatPhc(this.params, salt, await derive(encoder.encode(password), salt, this.params, TAG_BYTES));
  }

  async verify(phc: string | null, password: string): Promise<VerifyResult> {
    const parsed = phc ? parsePhc(phc) : null;
    const bytes = encoder.encode(password);
    if (!parsed || bytes.byteLength < MIN_PASSWORD_BYTES) {
      await this.burn();
      return { ok: false, needsRehash: false };
    }
    const tag = await derive(bytes, parsed.salt, parsed.params, parsed.tag.byteLength);
    const ok = constantTimeEqual(tag, parsed.tag);
    const current = parsed.params;
    const needsRehash =
      ok &&
      (current.memoryKiB !== this.params.memoryKiB ||
        current.passes !== this.params.passes ||
        current.parallelism !== this.params.parallelism ||
        parsed.tag.byteLength !== TAG_BYTES);
    return { ok, needsRehash };
  }

  /**
   * Does the work of one verification against nothing: unknown emails and password-less accounts
   * take as long as real ones, so response time does not tell whether an account exists.
   */
  async burn(): Promise<void> {
    this.dummy ??= this.hash(toBase64(randomBytes(24)));
    const phc = await this.dummy;
    const parsed = parsePhc(phc)!;
    await derive(encoder.encode('not-the-password'), parsed.salt, parsed.params, TAG_BYTES);
  }
}

/** For tests and benchmarks: the size of the one WASM memory, which must not grow from hash to hash. */
export async function hasherMemoryBytes(): Promise<number> {
  return (await loadWasm()).memory.buffer.byteLength;
}
