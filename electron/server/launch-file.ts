// Opening browser mode's page without putting anything secret on a command line. The
// opener (xdg-open, open, start) gets the path of an owner-only HTML file that redirects
// to the one-time launch URL: other local users can read any process's argv in /proc, but
// not a 0600 file in a 0700 folder, so they never see even the nonce. The file is useless
// once the nonce is spent or a minute old, and is removed then.
import { spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { mkdirPrivate, PRIVATE_FILE_MODE } from '../host/atomic-file.ts';
import { NONCE_TTL_MS } from './session-auth.ts';

export type Spawner = (command: string, args: string[], options: SpawnOptions) => { on(event: 'error', listener: (error: Error) => void): unknown; unref(): void };

/** The platform's "open this with the default browser" command, or null without a display. */
export function browserOpener(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string[] | null {
  if (platform === 'darwin') return ['open'];
  if (platform === 'win32') return ['cmd', '/c', 'start', ''];
  return env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open'] : null;
}

function htmlAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Writes `<dir>/open-<random>.html` (0600, folder 0700), a page that goes straight to `launchUrl`. */
export async function writeLaunchFile(dir: string, launchUrl: string): Promise<string> {
  await mkdirPrivate(dir);
  const file = path.join(dir, `open-${randomBytes(6).toString('hex')}.html`);
  const url = htmlAttribute(launchUrl);
  const html =
    `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
    `<meta http-equiv="refresh" content="0;url=${url}"><title>MedReasoner</title>` +
    `<p>Opening MedReasoner Workstation… <a href="${url}">continue</a></p>\n`;
  await writeFile(file, html, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  return file;
}

export interface OpenOptions {
  launchUrl: string;
  /** Where the launch file goes: a folder under the data folder. */
  dir: string;
  spawn?: Spawner;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  /** When the file is removed (default: the nonce's lifetime). */
  removeAfterMs?: number;
  /** The opener could not be run (it is started detached, so this comes later). */
  onError?: (error: Error) => void;
}

export type OpenOutcome =
  | { opened: true; file: string; argv: string[] }
  | { opened: false; reason: 'no-display' | 'spawn-failed'; message: string };

/** Opens the launch URL in the user's browser through a launch file. */
export async function openInBrowser(options: OpenOptions): Promise<OpenOutcome> {
  const opener = browserOpener(options.platform, options.env);
  if (!opener) return { opened: false, reason: 'no-display', message: 'No display found, so no browser was opened.' };
  const file = await writeLaunchFile(options.dir, options.launchUrl);
  const [command, ...rest] = opener as [string, ...string[]];
  const argv = [...rest, file];
  const spawn = options.spawn ?? (nodeSpawn as unknown as Spawner);
  const removal = setTimeout(() => void rm(file, { force: true }), options.removeAfterMs ?? NONCE_TTL_MS + 5_000);
  removal.unref();
  try {
    const child = spawn(command, argv, { stdio: 'ignore', detached: true });
    child.on('error', (error) => options.onError?.(error));
    child.unref();
  } catch (error) {
    clearTimeout(removal);
    await rm(file, { force: true });
    return { opened: false, reason: 'spawn-failed', message: `${command} could not be started: ${(error as Error).message}` };
  }
  return { opened: true, file, argv: [command, ...argv] };
}
