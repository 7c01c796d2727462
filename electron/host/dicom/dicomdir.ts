// The files a DICOMDIR references: each directory record's Referenced File ID (0004,1500)
// is a path relative to the DICOMDIR's folder, one component per value. Media written
// on other systems often changes the case of names, so components match case-insensitively.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DataSet } from 'dicom-parser';

const DIRECTORY_RECORD_SEQUENCE = 'x00041220';
const REFERENCED_FILE_ID = 'x00041500';

export interface DicomdirReferences {
  /** Absolute paths, resolved against what is on disk; a path that is not there is kept as written. */
  files: string[];
  /** File IDs that were not followed, in words. */
  notes: string[];
}

export function isDicomdirDataSet(dataSet: DataSet): boolean {
  return dataSet.elements[DIRECTORY_RECORD_SEQUENCE] !== undefined;
}

export function dicomdirReferences(dataSet: DataSet, dicomdirPath: string): DicomdirReferences {
  const base = dirname(dicomdirPath);
  const files: string[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  const listings = new Map<string, string[] | null>();
  for (const item of dataSet.elements[DIRECTORY_RECORD_SEQUENCE]?.items ?? []) {
    const record = item.dataSet;
    if (!record?.elements[REFERENCED_FILE_ID]) continue;
    const raw = (record.string(REFERENCED_FILE_ID) ?? '').replace(/\0+$/, '');
    const components = raw.split('\\').map((c) => c.trim());
    if (components.some((c) => c === '' || c === '.' || c === '..' || /[/\0]/.test(c))) {
      notes.push(`Referenced File ID "${raw}" is not a safe relative path; not followed.`);
      continue;
    }
    const path = resolveComponents(base, components, listings);
    if (seen.has(path)) continue;
    seen.add(path);
    files.push(path);
  }
  return { files, notes };
}

function resolveComponents(base: string, components: string[], listings: Map<string, string[] | null>): string {
  let current = base;
  for (const component of components) {
    current = join(current, matchName(current, component, listings));
  }
  return current;
}

function matchName(folder: string, name: string, listings: Map<string, string[] | null>): string {
  let names = listings.get(folder);
  if (names === undefined) {
    try {
      names = readdirSync(folder);
    } catch {
      names = null;
    }
    listings.set(folder, names);
  }
  if (!names || names.includes(name)) return name;
  const lower = name.toLowerCase();
  return names.find((candidate) => candidate.toLowerCase() === lower) ?? name;
}
