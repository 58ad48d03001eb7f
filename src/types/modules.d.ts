// Module types for files wrangler bundles as precompiled WebAssembly.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
