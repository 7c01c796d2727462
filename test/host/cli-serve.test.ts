// `medreasoner serve` as a user starts it: it prints a one-time link (not the secret),
// writes the bearer token for tools to an owner-only file, and removes it on SIGTERM. The
// serve process's own command line and environment hold neither secret nor nonce.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerTokenFile } from '../../electron/server/server-token-file.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
let dataDir: string;
let child: ChildProcess;
let output = '';

function waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no ${pattern} in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const match = output.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      } else setTimeout(check, 50);
    };
    check();
  });
}

beforeAll(async () => {
  if (!existsSync(path.join(REPO, 'dist/renderer/index.html'))) throw new Error('The renderer is not built: run `npm run build:renderer` first.');
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mr-serve-'));
  child = spawn(process.execPath, [path.join(REPO, 'bin/medreasoner.js'), 'serve', '--no-open', '--data-dir', dataDir], {
    cwd: REPO,
    env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

describe('medreasoner serve', () => {
  it('prints a one-time link, hands tools the token in an owner-only file, and cleans up on SIGTERM', async () => {
    const [, link] = await waitFor(/one-time link[^:]*: (http:\/\/127\.0\.0\.1:\d+\/launch\?nonce=\S+)/);
    const [, tokenFile] = await waitFor(/bearer token is in (\S+) \(owner-only\)/);
    expect((await stat(tokenFile!)).mode & 0o777).toBe(0o600);
    const { url, secret, pid } = await readServerTokenFile(tokenFile!);
    expect(pid).toBe(child.pid);
    expect(output).not.toContain(secret);
    // Neither the serve process's argv nor its environment carries anything secret.
    const cmdline = await readFile(`/proc/${child.pid}/cmdline`, 'utf8');
    const nonce = new URL(link!).searchParams.get('nonce') as string;
    expect(cmdline).not.toContain(secret);
    expect(cmdline).not.toContain(nonce);

    const first = await fetch(link!, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('set-cookie')).toMatch(new RegExp(`^mr_session_${new URL(url).port}=`));
    expect((await fetch(link!, { redirect: 'manual' })).status).toBe(401);
    const api = await fetch(`${url}/api/call/app.info`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` }, body: '{}' });
    expect(api.status).toBe(200);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(tokenFile!)).toBe(false);
  }, 120_000);
});
