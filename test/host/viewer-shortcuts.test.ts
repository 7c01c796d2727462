// Every key in the shortcuts help does one thing: two features on one key means one of them
// never runs (the keydown handler takes the first match).
import { describe, expect, test } from 'vitest';
import { shortcutList } from '../../renderer/src/viewer/shortcut-list.ts';

describe('viewer shortcuts', () => {
  test('no key is listed for two actions', () => {
    const seen = new Map<string, string>();
    for (const { keys, action } of shortcutList()) {
      // Single-key entries only: combined entries such as '↑ ↓ ← →' or 'Ctrl + left drag' name gestures.
      for (const key of keys.split(/\s*\/\s*|\s+/).filter((k) => k.length === 1 && k !== '+')) {
        const k = key.toLowerCase();
        expect(seen.get(k), `${key}: "${action}" and "${seen.get(k)}"`).toBeUndefined();
        seen.set(k, action);
      }
    }
    expect(seen.size).toBeGreaterThan(20);
  });
});
