// Module types for files wrangler bundles as precompiled WebAssembly.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}

declare module 'argon2id/lib/argon2id.js' {
  import type { Argon2idParams } from 'argon2id';
  export default function argon2id(
    params: Argon2idParams,
    wasm: { memory: WebAssembly.Memory; instance: WebAssembly.Instance },
  ): Uint8Array;
}
