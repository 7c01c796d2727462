// Where tools find a running browser-mode server and its bearer secret: one owner-only
// JSON file per instance under the data folder (`<data>/browser-server/<port>.json`), so
// the secret never needs a URL or a command line to reach them.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { mkdirPrivate, writeFileAtomic } from '../host/atomic-file.ts';

export const SERVER_FILES_DIR = 'browser-server';

export interface ServerTokenFile {
  url: string;
  secret: string;
  pid: number;
}

export function serverTokenPath(dataDir: string, url: string): string {
  return path.join(dataDir, SERVER_FILES_DIR, `${new URL(url).port}.json`);
}

export async function writeServerTokenFile(dataDir: string, server: { url: string; secret: string }): Promise<string> {
  const file = serverTokenPath(dataDir, server.url);
  await mkdirPrivate(path.dirname(file));
  const content: ServerTokenFile = { url: server.url, secret: server.secret, pid: process.pid };
  await writeFileAtomic(file, `${JSON.stringify(content)}\n`);
  return file;
}

export async function readServerTokenFile(file: string): Promise<ServerTokenFile> {
  const value = JSON.parse(await readFile(file, 'utf8')) as Partial<ServerTokenFile>;
  if (typeof value.url !== 'string' || typeof value.secret !== 'string' || typeof value.pid !== 'number') {
    throw new Error(`${file} is not a browser-server file (url, secret, pid)`);
  }
  return { url: value.url, secret: value.secret, pid: value.pid };
}

export async function removeServerTokenFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
