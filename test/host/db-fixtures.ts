// Folders of small CT slices for the study database tests, and a host that can be restarted.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ctSlice, writeDicom } from './fixtures-dicom.ts';

export const UID_ROOT = '1.2.826.0.1.3680043.8.498.314';

/** `series` series of `slices` slices each, one study per folder, under `folder/series-<n>/`. */
export function writeStudyFolder(folder: string, study: number, series: number, slices: number, patientId = `DB-${study}`): string[] {
  const paths: string[] = [];
  for (let s = 0; s < series; s++) {
    const dir = join(folder, `series-${s}`);
    mkdirSync(dir, { recursive: true });
    for (let k = 0; k < slices; k++) {
      const path = join(dir, `slice-${k}.dcm`);
      writeDicom(
        path,
        ctSlice({
          studyUid: `${UID_ROOT}.${study}`,
          seriesUid: `${UID_ROOT}.${study}.${s}`,
          sopUid: `${UID_ROOT}.${study}.${s}.${k}`,
          instanceNumber: k + 1,
          position: [0, 0, k * 2],
          orientation: [1, 0, 0, 0, 1, 0],
          patientId,
        }),
      );
      paths.push(path);
    }
  }
  return paths;
}
