// The phantom itself: deterministic, made of the intended tissues, and with
// its anatomy where a torso has it (LPS: patient's left is +x, posterior +y,
// superior +z; slice index 0 is the most inferior slice).
import { beforeAll, describe, expect, it } from 'vitest';
import { LABEL, LABEL_TABLE } from '../../electron/host/sample/label-table.ts';
import { ANATOMY, MORPHOLOGY } from '../../electron/host/sample/anatomy-codes.ts';
import {
  DEFAULT_SAMPLE_SPEC,
  generatePhantom,
  MAX_HU,
  MIN_HU,
  type Phantom,
  type PhantomSpec,
} from '../../electron/host/sample/phantom.ts';
import { LANDMARKS } from '../../electron/host/sample/torso-anatomy.ts';

const SMALL: PhantomSpec = { columns: 64, rows: 64, slices: 30, pixelSpacing: 5.625, sliceThickness: 10, seed: 7 };

interface Region {
  count: number;
  mean: number;
  median: number;
  /** Centroid in patient mm (LPS). */
  centroid: [number, number, number];
  zMin: number;
  zMax: number;
}

function region(phantom: Phantom, label: number): Region {
  const { columns, rows, slices, origin, pixelSpacing, sliceThickness } = phantom.geometry;
  const values: number[] = [];
  let sx = 0;
  let sy = 0;
  let sz = 0;
  let zMin = Infinity;
  let zMax = -Infinity;
  for (let k = 0; k < slices; k++) {
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < columns; i++) {
        const index = (k * rows + j) * columns + i;
        if (phantom.labels[index] !== label) continue;
        values.push(phantom.hu[index]!);
        sx += origin[0] + i * pixelSpacing;
        sy += origin[1] + j * pixelSpacing;
        const z = origin[2] + k * sliceThickness;
        sz += z;
        zMin = Math.min(zMin, z);
        zMax = Math.max(zMax, z);
      }
    }
  }
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  return {
    count: n,
    mean: values.reduce((a, b) => a + b, 0) / Math.max(n, 1),
    median: sorted[n >> 1] ?? NaN,
    centroid: [sx / n, sy / n, sz / n],
    zMin,
    zMax,
  };
}

/** Share of the voxels touching a structure (6-neighbours, outside it) that carry `host`. */
function hostShare(phantom: Phantom, label: number, hosts: readonly number[]): number {
  const { columns, rows, slices } = phantom.geometry;
  const labels = phantom.labels;
  let touching = 0;
  let inHost = 0;
  const steps = [1, -1, columns, -columns, columns * rows, -columns * rows];
  for (let index = 0; index < labels.length; index++) {
    if (labels[index] !== label) continue;
    for (const step of steps) {
      const n = index + step;
      if (n < 0 || n >= columns * rows * slices) continue;
      const v = labels[n]!;
      if (v === label) continue;
      touching++;
      if (hosts.includes(v)) inHost++;
    }
  }
  return inHost / touching;
}

describe('phantom generation', () => {
  it('is deterministic: the same spec gives byte-identical volumes', () => {
    const a = generatePhantom(SMALL);
    const b = generatePhantom({ ...SMALL });
    expect(Buffer.from(a.hu.buffer).equals(Buffer.from(b.hu.buffer))).toBe(true);
    expect(Buffer.from(a.labels.buffer).equals(Buffer.from(b.labels.buffer))).toBe(true);
  });

  it('changes texture and noise, not anatomy, with the seed', () => {
    const a = generatePhantom(SMALL);
    const b = generatePhantom({ ...SMALL, seed: 8 });
    expect(Buffer.from(a.hu.buffer).equals(Buffer.from(b.hu.buffer))).toBe(false);
    const liverA = region(a, LABEL.liver);
    const liverB = region(b, LABEL.liver);
    expect(Math.abs(liverA.count - liverB.count) / liverA.count).toBeLessThan(0.1);
  });

  it('lays voxels out x fastest and sizes the arrays from the spec', () => {
    const p = generatePhantom(SMALL);
    expect(p.hu).toBeInstanceOf(Int16Array);
    expect(p.labels).toBeInstanceOf(Uint8Array);
    expect(p.hu.length).toBe(SMALL.columns * SMALL.rows * SMALL.slices);
    expect(p.geometry.origin[0]).toBeCloseTo((-(SMALL.columns - 1) / 2) * SMALL.pixelSpacing, 9);
    expect(p.geometry.normal).toEqual([0, 0, 1]);
  });

  it('rejects impossible specs with a message naming the field', () => {
    expect(() => generatePhantom({ ...SMALL, columns: 0 })).toThrow(/columns/);
    expect(() => generatePhantom({ ...SMALL, sliceThickness: Number.NaN })).toThrow(/sliceThickness/);
    expect(() => generatePhantom({ ...SMALL, seed: -1 })).toThrow(/seed/);
  });
});

describe('default sample anatomy', () => {
  let phantom: Phantom;
  beforeAll(() => {
    phantom = generatePhantom(DEFAULT_SAMPLE_SPEC);
  });

  it('uses the documented default grid: 256×256 at ~1.4 mm, 120 slices of 2.5 mm', () => {
    expect(phantom.geometry.columns).toBe(256);
    expect(phantom.geometry.rows).toBe(256);
    expect(phantom.geometry.slices).toBe(120);
    expect(phantom.geometry.pixelSpacing * 256).toBeCloseTo(360, 0);
    expect(phantom.geometry.sliceThickness).toBe(2.5);
  });

  it('keeps every value inside what the DICOM encoding can store', () => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of phantom.hu) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBeGreaterThanOrEqual(MIN_HU);
    expect(max).toBeLessThanOrEqual(MAX_HU);
  });

  it('gives each labelled structure the attenuation of its tissue', () => {
    const outside = region(phantom, LABEL.background);
    expect(outside.median).toBeLessThan(-950); // air (the table is the only thing out there)
    for (const lung of [LABEL.lung_left, LABEL.lung_right]) {
      const r = region(phantom, lung);
      expect(r.mean, 'lung mean').toBeLessThan(-700);
      expect(r.median, 'lung parenchyma').toBeGreaterThan(-920);
    }
    const liver = region(phantom, LABEL.liver);
    expect(liver.mean).toBeGreaterThan(40);
    expect(liver.mean).toBeLessThan(80);
    const spleen = region(phantom, LABEL.spleen);
    expect(spleen.mean).toBeGreaterThan(30);
    expect(spleen.mean).toBeLessThan(65);
    for (const kidney of [LABEL.kidney_left, LABEL.kidney_right]) {
      const r = region(phantom, kidney);
      expect(r.mean).toBeGreaterThan(15);
      expect(r.mean).toBeLessThan(45);
    }
    const aorta = region(phantom, LABEL.aorta);
    expect(aorta.mean).toBeGreaterThan(20);
    expect(aorta.mean).toBeLessThan(60);
    const spine = region(phantom, LABEL.spine);
    expect(spine.mean).toBeGreaterThan(200);
    expect(spine.median).toBeGreaterThan(150);
  });

  it('makes the lesions visible against their organ', () => {
    const liver = region(phantom, LABEL.liver);
    const lesion = region(phantom, LABEL.liver_lesion);
    expect(lesion.mean).toBeGreaterThan(0);
    expect(lesion.mean).toBeLessThan(liver.mean - 25); // hypodense
    const kidney = region(phantom, LABEL.kidney_left);
    const cyst = region(phantom, LABEL.kidney_cyst);
    expect(cyst.median).toBeGreaterThan(-10);
    expect(cyst.median).toBeLessThan(20); // water-like
    expect(cyst.median).toBeLessThan(kidney.median - 15);
    const lung = region(phantom, LABEL.lung_right);
    const nodule = region(phantom, LABEL.lung_nodule);
    expect(nodule.median).toBeGreaterThan(-100); // solid, soft tissue
    expect(nodule.mean).toBeGreaterThan(lung.mean + 500);
  });

  it('sizes the lesions as designed (spheres of the documented radius)', () => {
    const { pixelSpacing, sliceThickness } = phantom.geometry;
    const voxelMl = (pixelSpacing * pixelSpacing * sliceThickness) / 1000;
    const sphereMl = (r: number) => ((4 / 3) * Math.PI * r ** 3) / 1000;
    const cases: Array<[number, number]> = [
      [LABEL.liver_lesion, LANDMARKS.liverLesion.radius],
      [LABEL.lung_nodule, LANDMARKS.lungNodule.radius],
      [LABEL.kidney_cyst, LANDMARKS.kidneyCyst.radius],
    ];
    for (const [label, radius] of cases) {
      const volume = region(phantom, label).count * voxelMl;
      expect(Math.abs(volume - sphereMl(radius)) / sphereMl(radius), `label ${label}`).toBeLessThan(0.25);
    }
    expect(2 * LANDMARKS.liverLesion.radius).toBeGreaterThanOrEqual(15);
    expect(2 * LANDMARKS.liverLesion.radius).toBeLessThanOrEqual(25);
    expect(2 * LANDMARKS.lungNodule.radius).toBeCloseTo(11, 0);
  });

  it('gives the organs plausible adult volumes (within the scanned range)', () => {
    const { pixelSpacing, sliceThickness } = phantom.geometry;
    const ml = (label: number) => (region(phantom, label).count * pixelSpacing * pixelSpacing * sliceThickness) / 1000;
    expect(ml(LABEL.liver)).toBeGreaterThan(1000);
    expect(ml(LABEL.liver)).toBeLessThan(2200);
    expect(ml(LABEL.spleen)).toBeGreaterThan(80);
    expect(ml(LABEL.spleen)).toBeLessThan(350);
    for (const kidney of [LABEL.kidney_left, LABEL.kidney_right]) {
      expect(ml(kidney)).toBeGreaterThan(90);
      expect(ml(kidney)).toBeLessThan(250);
    }
  });

  it('places organs on the correct side (LPS: patient right is −x)', () => {
    expect(region(phantom, LABEL.liver).centroid[0]).toBeLessThan(-20);
    expect(region(phantom, LABEL.spleen).centroid[0]).toBeGreaterThan(40);
    expect(region(phantom, LABEL.kidney_right).centroid[0]).toBeLessThan(-30);
    expect(region(phantom, LABEL.kidney_left).centroid[0]).toBeGreaterThan(30);
    expect(region(phantom, LABEL.lung_right).centroid[0]).toBeLessThan(-30);
    expect(region(phantom, LABEL.lung_left).centroid[0]).toBeGreaterThan(30);
    expect(Math.abs(region(phantom, LABEL.spine).centroid[0])).toBeLessThan(3);
  });

  it('stacks them in the right order head to foot and front to back', () => {
    const lungs = [region(phantom, LABEL.lung_left), region(phantom, LABEL.lung_right)];
    const kidneys = [region(phantom, LABEL.kidney_left), region(phantom, LABEL.kidney_right)];
    for (const lung of lungs) for (const kidney of kidneys) expect(lung.centroid[2]).toBeGreaterThan(kidney.centroid[2] + 80);
    // The right kidney sits lower than the left (the liver is above it).
    expect(kidneys[1]!.centroid[2]).toBeLessThan(kidneys[0]!.centroid[2]);
    expect(region(phantom, LABEL.liver).centroid[2]).toBeLessThan(lungs[1]!.centroid[2]);
    // Kidneys are retroperitoneal; the spine lies behind the aorta.
    for (const kidney of kidneys) expect(kidney.centroid[1]).toBeGreaterThan(20);
    expect(region(phantom, LABEL.spine).centroid[1]).toBeGreaterThan(region(phantom, LABEL.aorta).centroid[1] + 20);
  });

  it('keeps the abdominal aorta left of the midline and in front of the spine', () => {
    const { columns, rows, origin, pixelSpacing, sliceThickness } = phantom.geometry;
    const k = Math.round((-100 - origin[2]) / sliceThickness); // an L1-L2 level slice
    let sx = 0;
    let sy = 0;
    let n = 0;
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < columns; i++) {
        if (phantom.labels[(k * rows + j) * columns + i] !== LABEL.aorta) continue;
        sx += origin[0] + i * pixelSpacing;
        sy += origin[1] + j * pixelSpacing;
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
    expect(sx / n).toBeGreaterThan(3);
    expect(sy / n).toBeLessThan(LANDMARKS.vertebralBodyY - 15);
  });

  it('orders slices inferior to superior: lungs at the top indices, kidneys at the bottom', () => {
    const { columns, rows, slices } = phantom.geometry;
    const count = (k: number, labels: number[]) => {
      let n = 0;
      for (let i = k * columns * rows; i < (k + 1) * columns * rows; i++) if (labels.includes(phantom.labels[i]!)) n++;
      return n;
    };
    const lungs = [LABEL.lung_left, LABEL.lung_right];
    const kidneys = [LABEL.kidney_left, LABEL.kidney_right];
    let kidneysInLowestQuarter = 0;
    for (let k = 0; k < slices / 4; k++) kidneysInLowestQuarter += count(k, kidneys);
    expect(count(slices - 1, lungs)).toBeGreaterThan(1000);
    expect(count(0, lungs)).toBe(0);
    expect(kidneysInLowestQuarter).toBeGreaterThan(1000);
    expect(count(slices - 1, kidneys)).toBe(0);
  });

  it('puts each lesion inside its host organ', () => {
    expect(hostShare(phantom, LABEL.liver_lesion, [LABEL.liver])).toBeGreaterThan(0.9);
    expect(hostShare(phantom, LABEL.lung_nodule, [LABEL.lung_right])).toBeGreaterThan(0.9);
    // The cyst bulges out of the kidney (exophytic), so only part of its surface touches it.
    expect(hostShare(phantom, LABEL.kidney_cyst, [LABEL.kidney_left])).toBeGreaterThan(0.3);
  });

  it('has CT-like noise: a robust σ of 8-18 HU inside the liver', () => {
    const { columns, rows, slices } = phantom.geometry;
    const deviations: number[] = [];
    const values: number[] = [];
    const plane = columns * rows;
    for (let k = 2; k < slices - 2; k++) {
      for (let j = 3; j < rows - 3; j++) {
        for (let i = 3; i < columns - 3; i++) {
          const index = k * plane + j * columns + i;
          if (phantom.labels[index] !== LABEL.liver) continue;
          let interior = true;
          for (const step of [3, -3, 3 * columns, -3 * columns, plane, -plane]) {
            if (phantom.labels[index + step] !== LABEL.liver) interior = false;
          }
          if (interior) values.push(phantom.hu[index]!);
        }
      }
    }
    const median = Float64Array.from(values).sort()[values.length >> 1]!;
    for (const v of values) deviations.push(Math.abs(v - median));
    const mad = Float64Array.from(deviations).sort()[deviations.length >> 1]!;
    const sigma = 1.4826 * mad;
    expect(sigma).toBeGreaterThan(8);
    expect(sigma).toBeLessThan(18);
  });
});

describe('label table', () => {
  it('has one entry per non-background label value, with SNOMED CT codes from the codes table', () => {
    const values = Object.values(LABEL).filter((v) => v !== 0);
    expect(LABEL_TABLE.map((e) => e.value).sort((a, b) => a - b)).toEqual(values.sort((a, b) => a - b));
    for (const entry of LABEL_TABLE) {
      expect(entry.type.scheme).toBe('SCT');
      expect(entry.type.value).toMatch(/^\d{6,18}$/);
      expect(entry.color).toHaveLength(3);
    }
    const byName = Object.fromEntries(LABEL_TABLE.map((e) => [e.name, e]));
    expect(byName.liver!.type).toBe(ANATOMY.liver);
    expect(byName.liver!.type.value).toBe('10200004');
    expect(byName.spleen!.type.value).toBe('78961009');
    expect(byName.aorta!.type.value).toBe('15825003');
    expect(byName.spine!.type.value).toBe('421060004');
    expect(byName.liver_lesion!.type).toBe(MORPHOLOGY.mass);
    expect(byName.lung_nodule!.type.value).toBe('27925004');
    expect(byName.kidney_cyst!.type.value).toBe('441457006');
  });
});
