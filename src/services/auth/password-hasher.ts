// Argon2id password hashing in WebAssembly, inside workerd. Hashes are PHC strings, so hashes made
// elsewhere (passlib, libsodium, node-argon2) verify, and stronger parameters apply on next login.
import argon2Module from '@phi-ag/argon2/argon2.wasm';
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

/** The exports of the reference C build: `argon2_hash` (libargon2's), the allocator, the memory. */
interface Argon2Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(pointer: number): void;
  // (t_cost, m_cost, parallelism, pwd, pwdlen, salt, saltlen, hash, hashlen, encoded, encodedlen, type, version)
  argon2_hash(...args: number[]): number;
}

const ARGON2ID_TYPE = 2;
const ARGON2_VERSION_13 = 0x13;

// libargon2 itself, built for WASM with SIMD (the .wasm of @phi-ag/argon2): the whole block loop runs inside
// WASM. It is called here directly, bytes in and bytes out; the package's own wrapper passes a string's
// UTF-16 length as its byte length, which would truncate non-ASCII passwords. One instance per isolate,
// created on first use (not at startup, which must stay under a second) and reused for every hash; its
// allocator reuses the block memory, so the memory stays flat.
let wasm: Promise<Argon2Exports> | undefined;

function loadWasm(): Promise<Argon2Exports> {
  wasm ??= (async () => {
    const instance = await WebAssembly.instantiate(argon2Module);
    const exports = instance.exports as unknown as Argon2Exports;
    exports._initialize();
    return exports;
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

async function derive(password: string, salt: Uint8Array, params: Argon2Params, tagLength: number) {
  const argon2 = await loadWasm();
  const secret = encoder.encode(password);
  const pointers: number[] = [];
  const place = (bytes: Uint8Array | number) => {
    const length = typeof bytes === 'number' ? bytes : bytes.byteLength;
    const pointer = argon2.malloc(Math.max(length, 1));
    if (pointer === 0) throw new Error('argon2: out of WASM memory');
    pointers.push(pointer);
    if (typeof bytes !== 'number') new Uint8Array(argon2.memory.buffer, pointer, length).set(bytes);
    return pointer;
  };
  const passwordAt = place(secret);
  try {
    const saltAt = place(salt);
    const tagAt = place(tagLength);
    const { memoryKiB, passes, parallelism } = params;
    const status = argon2.argon2_hash(
      passes,
      memoryKiB,
      parallelism,
      passwordAt,
      secret.byteLength,
      saltAt,
      salt.byteLength,
      tagAt,
      tagLength,
      0,
      0,
      ARGON2ID_TYPE,
      ARGON2_VERSION_13,
    );
    if (status !== 0) throw new Error(`argon2: error ${status}`);
    // Read after the call: the memory may have grown, which replaces its buffer.
    return new Uint8Array(argon2.memory.buffer, tagAt, tagLength).slice();
  } finally {
    // The password's copy is wiped before its memory is reused.
    new Uint8Array(argon2.memory.buffer, passwordAt, secret.byteLength).fill(0);
    for (const pointer of pointers) argon2.free(pointer);
  }
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
    return formatPhc(this.params, salt, await derive(password, salt, this.params, TAG_BYTES));
  }

  async verify(phc: string | null, password: string): Promise<VerifyResult> {
    const parsed = phc ? parsePhc(phc) : null;
    if (!parsed) {
      await this.burn();
      return { ok: false, needsRehash: false };
    }
    const tag = await derive(password, parsed.salt, parsed.params, parsed.tag.byteLength);
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
    await derive('not-the-password', parsed.salt, parsed.params, TAG_BYTES);
  }
}

/** For tests and benchmarks: the size of the one WASM memory, which must not grow from hash to hash. */
export async function hasherMemoryBytes(): Promise<number> {
  return (await loadWasm()).memory.buffer.byteLength;
}
