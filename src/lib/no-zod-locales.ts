// Stands in for zod's bundle of ~40 translated error-message sets (wrangler.toml [alias]). zod re-exports
// them as a namespace, which esbuild cannot tree-shake; we answer in English only (zod imports its
// English messages directly, not through this module), so the namespace is empty. Saves ~40 KiB gzip.
export {};
