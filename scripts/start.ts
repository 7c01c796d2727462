// `npm start`: the Electron shell when its binary is installed, else browser mode.
// It says which and why, so nobody wonders why no window opened.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const passThrough = process.argv.slice(2);

function electronBinary(): string | null {
  const pkg = path.join(root, 'node_modules', 'electron');
  try {
    const relative = readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim();
    const binary = path.join(pkg, 'dist', relative);
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function newestChange(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** A build is redone when it is missing or older than any of its sources. */
function needsBuild(output: string, sourceFolders: string[]): boolean {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return sourceFolders.some((folder) => newestChange(path.join(root, folder)) > built);
}

const electron = electronBinary();
const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

if (needsBuild(path.join(root, 'dist', 'renderer', 'index.html'), ['renderer', 'electron/common'])) run('npm', ['run', 'build:renderer']);

if (electron && hasDisplay) {
  console.log('Starting the Electron shell (its binary is installed).');
  if (needsBuild(path.join(root, 'dist', 'electron', 'main.js'), ['electron'])) run('npm', ['run', 'build:electron']);
  const child = spawn(electron, [root, ...passThrough], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const why = electron
    ? 'Electron is installed but there is no display'
    : "Electron's binary is not installed (`npm run setup:electron` installs it where GitHub is reachable)";
  console.log(`Starting browser mode: ${why}.`);
  const child = spawn(process.execPath, [path.join(root, 'bin', 'medreasoner.js'), 'serve', ...passThrough], {
    cwd: root,
    stdio: 'inherit',
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 0));
}
