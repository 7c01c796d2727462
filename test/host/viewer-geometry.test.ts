// The viewer's pure modules: orientation letters, scale bar, automatic window, layouts
// and volume eligibility. Expected values come from the DICOM conventions (LPS patient
// axes, nearest-rank percentiles) worked out by hand here, not from the implementation.
import { describe, expect, test } from 'vitest';
import type { SeriesSummary } from '../../electron/common/dicom-model.ts';
import { AUTO_WINDOW_PERCENTILES, autoVoiRange, nearestRankPercentile } from '../../renderer/src/viewer/auto-window.ts';
import { layouts, panesOf } from '../../renderer/src/viewer/layouts.ts';
import { edgeLetters, patientDirection, scaleBarLength } from '../../renderer/src/viewer/view-geometry.ts';
import { MIN_VOLUME_SLICES, volumeEligibility } from '../../renderer/src/viewer/volume-eligibility.ts';
import { ctWindowPresets } from '../../renderer/src/viewer/window-presets.ts';

type V3 = [number, number, number];
const neg = (v: V3): V3 => [-v[0], -v[1], -v[2]];

// ImageOrientationPatient of the three standard planes: row (screen rightward) and column (screen downward).
const AXIAL = { row: [1, 0, 0] as V3, column: [0, 1, 0] as V3 };
const SAGITTAL = { row: [0, 1, 0] as V3, column: [0, 0, -1] as V3 };
const CORONAL = { row: [1, 0, 0] as V3, column: [0, 0, -1] as V3 };

describe('patientDirection', () => {
  test('names the LPS axis a vector points along, positive or negative', () => {
    expect(patientDirection([1, 0, 0])).toBe('L');
    expect(patientDirection([-1, 0, 0])).toBe('R');
    expect(patientDirection([0, 1, 0])).toBe('P');
    expect(patientDirection([0, -1, 0])).toBe('A');
    expect(patientDirection([0, 0, 1])).toBe('S');
    expect(patientDirection([0, 0, -1])).toBe('I');
  });

  test('an oblique vector takes the axis it mostly points along; the scale does not matter', () => {
    expect(patientDirection([0.3, -0.9, 0.3])).toBe('A');
    expect(patientDirection([-140, 20, 50])).toBe('R');
    expect(patientDirection([0.1, 0.2, -0.97])).toBe('I');
  });

  test('an exact tie goes to the first axis (L/R before P/A before S/I)', () => {
    expect(patientDirection([Math.SQRT1_2, Math.SQRT1_2, 0])).toBe('L');
    expect(patientDirection([0, -0.6, 0.6])).toBe('A');
  });

  test('missing components count as zero', () => {
    expect(patientDirection([0, 0])).toBe('L');
    expect(patientDirection([])).toBe('L');
  });
});

describe('edgeLetters (orientation markers)', () => {
  test('axial as acquired: patient right on the screen left, anterior on top (radiological convention)', () => {
    expect(edgeLetters(AXIAL.row, AXIAL.column)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });

  test('sagittal: anterior left, posterior right, superior on top', () => {
    expect(edgeLetters(SAGITTAL.row, SAGITTAL.column)).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });
  });

  test('coronal: patient right on the screen left, superior on top', () => {
    expect(edgeLetters(CORONAL.row, CORONAL.column)).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' });
  });

  test('flipping horizontally swaps left and right only; vertically, top and bottom only', () => {
    expect(edgeLetters(neg(AXIAL.row), AXIAL.column)).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
    expect(edgeLetters(AXIAL.row, neg(AXIAL.column))).toEqual({ left: 'R', right: 'L', top: 'P', bottom: 'A' });
    expect(edgeLetters(CORONAL.row, neg(CORONAL.column))).toEqual({ left: 'R', right: 'L', top: 'I', bottom: 'S' });
  });

  test('a quarter turn clockwise: what was on top faces right, what was on the right faces down', () => {
    // Turning the picture clockwise, the screen's rightward direction is the image's old upward one.
    const rightward = neg(AXIAL.column);
    const downward = AXIAL.row;
    expect(edgeLetters(rightward, downward)).toEqual({ left: 'P', right: 'A', top: 'R', bottom: 'L' });
    // Four quarter turns are back where they started.
    let [r, d] = [AXIAL.row, AXIAL.column];
    for (let turn = 0; turn < 4; turn++) [r, d] = [neg(d), r];
    expect(edgeLetters(r, d)).toEqual(edgeLetters(AXIAL.row, AXIAL.column));
  });

  test('a half turn equals flipping both ways', () => {
    expect(edgeLetters(neg(SAGITTAL.row), neg(SAGITTAL.column))).toEqual({ left: 'P', right: 'A', top: 'I', bottom: 'S' });
  });

  test('slightly oblique axial (gantry tilt) keeps the axial letters', () => {
    const tilt = (10 * Math.PI) / 180;
    expect(edgeLetters([1, 0, 0], [0, Math.cos(tilt), -Math.sin(tilt)])).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });
});

describe('scaleBarLength', () => {
  test('the longest 1-2-5 length that fits', () => {
    // 1.40625 mm per pixel (the sample CT unzoomed), 200 px: 281 mm fit, so 200 mm (142.2 px).
    expect(scaleBarLength(1.40625, 200)).toEqual({ mm: 200, px: 200 / 1.40625 });
    // Zoomed in 4×: 0.3515625 mm per pixel, 200 px hold 70.3 mm → 50 mm.
    expect(scaleBarLength(0.3515625, 200)).toEqual({ mm: 50, px: 50 / 0.3515625 });
    expect(scaleBarLength(1, 99)).toEqual({ mm: 50, px: 50 });
    expect(scaleBarLength(0.1, 30)).toEqual({ mm: 2, px: 20 });
  });

  test('a length that exactly fills the room is taken', () => {
    expect(scaleBarLength(0.5, 20)).toEqual({ mm: 10, px: 20 });
  });

  test('never longer than a metre, however far zoomed out', () => {
    expect(scaleBarLength(100, 200)).toEqual({ mm: 1000, px: 10 });
  });

  test('null when even 1 mm does not fit, or the scale is unknown', () => {
    expect(scaleBarLength(2, 0.4)).toBeNull();
    expect(scaleBarLength(0, 200)).toBeNull();
    expect(scaleBarLength(-1, 200)).toBeNull();
    expect(scaleBarLength(Number.NaN, 200)).toBeNull();
    expect(scaleBarLength(Number.POSITIVE_INFINITY, 200)).toBeNull();
  });
});

describe('nearestRankPercentile', () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1…100

  test('rank ⌈p·n⌉ of the sorted values', () => {
    expect(nearestRankPercentile(hundred, 0.01)).toBe(1);
    expect(nearestRankPercentile(hundred, 0.5)).toBe(50);
    expect(nearestRankPercentile(hundred, 0.505)).toBe(51);
    expect(nearestRankPercentile(hundred, 0.99)).toBe(99);
    expect(nearestRankPercentile([10, 20, 30, 40], 0.5)).toBe(20);
    expect(nearestRankPercentile([10, 20, 30, 40], 0.51)).toBe(30);
  });

  test('p = 0 gives the smallest value, p = 1 the largest, and p outside 0…1 is clamped', () => {
    expect(nearestRankPercentile(hundred, 0)).toBe(1);
    expect(nearestRankPercentile(hundred, 1)).toBe(100);
    expect(nearestRankPercentile(hundred, -3)).toBe(1);
    expect(nearestRankPercentile(hundred, 7)).toBe(100);
  });

  test('one value is every percentile', () => {
    expect(nearestRankPercentile([42], 0.01)).toBe(42);
    expect(nearestRankPercentile([42], 0.99)).toBe(42);
  });

  test('no values: a clear error', () => {
    expect(() => nearestRankPercentile([], 0.5)).toThrow('no values to take a percentile of');
  });
});

describe('autoVoiRange', () => {
  test('uses the 1st and 99th percentiles', () => {
    expect(AUTO_WINDOW_PERCENTILES).toEqual({ low: 0.01, high: 0.99 });
  });

  test('spans the 1st to the 99th percentile of unsorted values, whatever their order', () => {
    const values = Int16Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1000…1, descending
    // n = 1000: ranks ⌈10⌉ = 10 and ⌈990⌉ = 990 of 1…1000.
    expect(autoVoiRange(values)).toEqual({ lower: 10, upper: 990 });
  });

  test('a few extreme pixels do not stretch the window', () => {
    // 990 soft-tissue values 0…98 (HU), 5 of air and 5 of metal: 1 % of the pixels are each extreme.
    const values = [...Array.from({ length: 990 }, (_, i) => i % 99), -1000, -1000, -1000, -1000, -1000, 3000, 3000, 3000, 3000, 3000];
    const range = autoVoiRange(values);
    expect(range.lower).toBeGreaterThanOrEqual(0);
    expect(range.upper).toBeLessThanOrEqual(98);
    expect(range.upper - range.lower).toBeGreaterThan(90);
  });

  test('negative values (CT in HU) sort numerically, not as text', () => {
    const values = Float32Array.from({ length: 200 }, (_, i) => -1000 + i * 10); // -1000…990
    // n = 200: ranks 2 and 198 → -990 and 970.
    expect(autoVoiRange(values)).toEqual({ lower: -990, upper: 970 });
  });

  test('a constant image gets a window of width 1 starting at its value, so it still draws', () => {
    expect(autoVoiRange(new Uint16Array(64).fill(7))).toEqual({ lower: 7, upper: 8 });
    expect(autoVoiRange([-1024])).toEqual({ lower: -1024, upper: -1023 });
  });

  test('an image whose percentiles coincide (mostly one value) also gets width 1', () => {
    const values = [...new Array<number>(500).fill(0), 1, 2, 3];
    expect(autoVoiRange(values)).toEqual({ lower: 0, upper: 1 });
  });

  test('an empty image: a clear error, not a NaN window', () => {
    expect(() => autoVoiRange([])).toThrow('no values to take a percentile of');
  });
});

describe('layouts and presets', () => {
  test('1×1 is the stack view (no panes); the others show the planes in Slicer order', () => {
    expect(panesOf('1x1')).toEqual([]);
    expect(panesOf('1x2')).toEqual(['axial', 'sagittal']);
    expect(panesOf('1x3')).toEqual(['axial', 'sagittal', 'coronal']);
    expect(panesOf('2x2')).toEqual(['axial', 'sagittal', 'coronal', 'volume3d']);
  });

  test('layout hotkeys Alt+1…Alt+4 and preset hotkeys are unique', () => {
    expect(layouts.map((layout) => layout.hotkey)).toEqual(['Alt+1', 'Alt+2', 'Alt+3', 'Alt+4']);
    const presetKeys = ctWindowPresets.map((preset) => preset.hotkey);
    expect(new Set(presetKeys).size).toBe(presetKeys.length);
    for (const preset of ctWindowPresets) expect(preset.windowWidth).toBeGreaterThan(0);
  });
});

describe('volumeEligibility', () => {
  function series(overrides: Partial<SeriesSummary> = {}, geometry: Partial<NonNullable<SeriesSummary['geometry']>> = {}): SeriesSummary {
    return {
      kind: 'image',
      sliceCount: 120,
      geometry: {
        rows: 256,
        columns: 256,
        pixelSpacing: [1.40625, 1.40625],
        orientation: [1, 0, 0, 0, 1, 0],
        normal: [0, 0, 1],
        sliceSpacing: 2.5,
        warnings: [],
        ...geometry,
      },
      ...overrides,
    } as SeriesSummary;
  }

  test('a regular CT series forms a volume', () => {
    expect(volumeEligibility(series())).toEqual({ ok: true });
  });

  test('an oblique series still forms a volume (the warning only informs)', () => {
    expect(volumeEligibility(series({}, { warnings: [{ code: 'oblique', message: 'the slices are oblique' }] }))).toEqual({ ok: true });
  });

  test('refuses, with the reason, what would be drawn distorted', () => {
    const uneven = volumeEligibility(series({}, { warnings: [{ code: 'uneven-spacing', message: 'slice spacing varies from 2.5 to 5 mm' }] }));
    expect(uneven).toEqual({ ok: false, reason: 'slice spacing varies from 2.5 to 5 mm' });
    expect(volumeEligibility(series({ sliceCount: MIN_VOLUME_SLICES - 1 }))).toMatchObject({ ok: false, reason: expect.stringContaining(`at least ${MIN_VOLUME_SLICES}`) });
    expect(volumeEligibility(series({}, { sliceSpacing: 0 }))).toEqual({ ok: false, reason: 'its slices share one position' });
    expect(volumeEligibility(series({}, { pixelSpacing: null }))).toMatchObject({ ok: false });
    expect(volumeEligibility(series({ kind: 'SEG' }))).toEqual({ ok: false, reason: 'a SEG object holds no image slices' });
  });
});
