// Explicit step: download Electron's binary (from GitHub, through @electron/get).
// Never part of `npm ci`, so an offline or firewalled install still succeeds.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const installer = path.join(root, 'node_modules', 'electron', 'install.js');
console.log("Downloading Electron's binary (needs access to GitHub or an ELECTRON_MIRROR)…");
const result = spawnSync(process.execPath, [installer], { stdio: 'inherit', cwd: path.dirname(installer) });
if (result.status !== 0) {
  console.error(
    "\nElectron's binary could not be downloaded. The app still runs in browser mode (`npm start`).\n" +
      'Behind a proxy or offline mirror, set ELECTRON_MIRROR (see https://www.electronjs.org/docs/latest/tutorial/installation) and run `npm run setup:electron` again.',
  );
  process.exit(1);
}
console.log('Electron is installed: `npm start` now opens the desktop shell.');
