// Worker threads and child processes need compiled JavaScript. Code imported from src/ (vitest runs the
// TypeScript directly) resolves them in dist/, which `npm test` builds first.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function compiledUrl(relative: string, from: string): URL {
  const url = new URL(relative, from);
  const path = fileURLToPath(url);
  if (existsSync(path)) return url;
  const inDist = path.replace(/([\\/])src([\\/])(?!.*[\\/]src[\\/])/, '$1dist$2');
  if (!existsSync(inDist)) throw new Error(`${inDist} is missing: run \`npm run build\` first`);
  return pathToFileURL(inDist);
}
