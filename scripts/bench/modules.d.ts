// The argon2id package's low-level entry, which the benchmark Worker calls for the builds it compares.
declare module 'argon2id/lib/argon2id.js' {
  import type { Argon2idParams } from 'argon2id';
  export default function argon2id(
    params: Argon2idParams,
    wasm: { memory: WebAssembly.Memory; instance: WebAssembly.Instance },
  ): Uint8Array;
}
