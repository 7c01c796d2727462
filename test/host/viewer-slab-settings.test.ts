// The thick-slab control's choices (renderer/src/viewer/slab.ts): the hotkey's cycle and
// what the thickness field accepts.
import { describe, expect, it } from 'vitest';
import { MAX_SLAB_MM, nextSlabMode, parseSlabThickness } from '../../renderer/src/viewer/slab.ts';

describe('thick slab settings', () => {
  it('cycles off → MIP → MinIP → average → off', () => {
    expect(nextSlabMode('off')).toBe('mip');
    expect(nextSlabMode('mip')).toBe('minip');
    expect(nextSlabMode('minip')).toBe('average');
    expect(nextSlabMode('average')).toBe('off');
  });

  it('takes millimetres from 0 (the plain slice) up to the limit', () => {
    expect(parseSlabThickness('12.5')).toEqual({ ok: true, mm: 12.5 });
    expect(parseSlabThickness(' 0 ')).toEqual({ ok: true, mm: 0 });
    expect(parseSlabThickness(String(MAX_SLAB_MM))).toEqual({ ok: true, mm: MAX_SLAB_MM });
  });

  it('refuses what is not a usable thickness, saying why', () => {
    expect(parseSlabThickness('')).toEqual({ ok: false, reason: '"" is not a number of millimetres' });
    expect(parseSlabThickness('ten')).toEqual({ ok: false, reason: '"ten" is not a number of millimetres' });
    expect(parseSlabThickness('-2')).toEqual({ ok: false, reason: 'a slab cannot be thinner than 0 mm (-2)' });
    expect(parseSlabThickness(String(MAX_SLAB_MM + 1))).toEqual({ ok: false, reason: `a slab of ${MAX_SLAB_MM + 1} mm is thicker than ${MAX_SLAB_MM} mm` });
  });
});
