// The medreasoner command's own contract: usage errors exit 2, help and version exit 0.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../../electron/cli/medreasoner.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

describe('medreasoner CLI', () => {
  it('exits 2 with usage when no command or an unknown one is given', async () => {
    const none = capture();
    expect(await main([], none.io)).toBe(2);
    expect(none.err.join('\n')).toContain('Usage: medreasoner');
    const unknown = capture();
    expect(await main(['frobnicate'], unknown.io)).toBe(2);
    expect(unknown.err.join('\n')).toContain('Unknown command "frobnicate"');
  });

  it('prints help and version with exit 0', async () => {
    const help = capture();
    expect(await main(['help'], help.io)).toBe(0);
    expect(help.out.join('\n')).toContain('index <path>');
    const version = capture();
    expect(await main(['version'], version.io)).toBe(0);
    expect(version.out[0]).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('runs as the package bin through npm exec, on the project Node', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const result = spawnSync('npm', ['exec', '--', 'medreasoner', 'version'], { cwd: root, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
