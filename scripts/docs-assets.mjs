// Copies Swagger UI's browser files from node_modules into public/docs/vendor/ (git-ignored), where
// the Worker's static assets serve them to /docs. Runs before dev, tests and deploys.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'swagger-ui-bundle.js.LICENSE.txt'];

export function copyDocsAssets() {
  const require = createRequire(import.meta.url);
  const source = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../public/docs/vendor');
  mkdirSync(target, { recursive: true });
  for (const file of FILES) copyFileSync(path.join(source, file), path.join(target, file));
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) copyDocsAssets();
