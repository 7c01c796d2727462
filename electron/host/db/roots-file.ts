// The imported folders, also kept beside the database (studies.db.roots.json): when the
// database is corrupt and moved aside, this is how the rebuild knows where to look.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export function rootsFilePath(dbPath: string): string {
  return `${dbPath}.roots.json`;
}

export function writeRootsFile(dbPath: string, roots: readonly string[]): void {
  const target = rootsFilePath(dbPath);
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ roots }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, target);
}

export function readRootsFile(dbPath: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(rootsFilePath(dbPath), 'utf8')) as { roots?: unknown };
    return Array.isArray(parsed.roots) ? parsed.roots.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    return [];
  }
}
