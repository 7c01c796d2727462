// The Electron shell's policies, testable without Electron's binary: which links may open
// in the user's browser, what a renderer crash does, and the wiring in main.ts and the
// packaging config that the binary would otherwise be needed to see.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CRASH_LOOP_WINDOW_MS, isAllowedExternalUrl, rendererGoneAction } from '../../electron/shell/shell-policy.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

describe('external links', () => {
  it('opens https links to the allowed origins only', () => {
    expect(isAllowedExternalUrl('https://github.com/some/repo#readme')).toBe(true);
    expect(isAllowedExternalUrl('https://huggingface.co/some/model')).toBe(true);
    for (const url of [
      'https://evil.example/',
      'http://github.com/',
      'https://github.com.evil.example/',
      'https://github.com@evil.example/',
      'https://user:pw@github.com/',
      'https://github.com:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'medreasoner://app/index.html',
      'not a url',
    ]) {
      expect(isAllowedExternalUrl(url), url).toBe(false);
    }
  });
});

describe('renderer gone', () => {
  it('reloads after a crash, asks after repeated ones, ignores a clean exit', () => {
    const now = 1_000_000;
    expect(rendererGoneAction('clean-exit', [], now)).toBe('none');
    expect(rendererGoneAction('crashed', [], now)).toBe('reload');
    expect(rendererGoneAction('oom', [now - 1000], now)).toBe('reload');
    expect(rendererGoneAction('crashed', [now - 2000, now - 1000], now)).toBe('ask');
    // Old crashes do not count towards a loop.
    expect(rendererGoneAction('killed', [now - CRASH_LOOP_WINDOW_MS - 1, now - CRASH_LOOP_WINDOW_MS - 2], now)).toBe('reload');
  });
});

describe('main.ts and the packaging config', () => {
  const main = read('electron/shell/main.ts');

  it('turns the spellchecker off (it downloads dictionaries) and handles render-process-gone', () => {
    expect(main).toMatch(/spellcheck:\s*false/);
    expect(main).toMatch(/setSpellCheckerEnabled\(false\)/);
    expect(main).toMatch(/\.on\('render-process-gone'/);
    expect(main).toMatch(/rendererGoneAction\(/);
  });

  it('opens external links only through the allow-list', () => {
    const calls = [...main.matchAll(/shell\.openExternal\(/g)];
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      const line = main.slice(main.lastIndexOf('\n', call.index) + 1, main.indexOf('\n', call.index));
      expect(line).toMatch(/if \(isAllowedExternalUrl\(url\)\)/);
    }
  });

  it('gives the deb target a maintainer with an e-mail address', () => {
    const yml = read('build/electron-builder.yml');
    const linux = /^linux:\n((?:[ \t]+.*\n|[ \t]*#.*\n)+)/m.exec(yml)?.[1] ?? '';
    expect(linux).toMatch(/target:.*\bdeb\b/);
    expect(linux).toMatch(/^\s+maintainer:\s*[^<\n]+<[^@\s>]+@[^@\s>]+\.[a-z]+>\s*$/m);
  });
});
