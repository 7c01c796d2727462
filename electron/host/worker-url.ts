// Where a worker module sits: next to the module that starts it, with that module's own
// extension. Run from source the caller is a .ts file (Node strips the types, in workers
// too); once the Electron build bundles the host, callers and workers are .js files.
import { extname } from 'node:path';

/**
 * @param baseName the worker's file name without extension, e.g. 'import-worker'
 * @param callerUrl the caller's import.meta.url
 */
export function siblingWorkerUrl(baseName: string, callerUrl: string): URL {
  const extension = extname(new URL(callerUrl).pathname) || '.js';
  return new URL(`./${baseName}${extension}`, callerUrl);
}
