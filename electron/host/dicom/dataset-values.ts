// Typed, forgiving accessors for values in a dicom-parser DataSet. Absent and empty
// values read as '' or null; malformed numbers read as null (callers that must not
// guess, such as Number of Frames, use readIntegerString and judge for themselves).
import type { DataSet } from 'dicom-parser';
import { decodeText } from './text-decoding.ts';

export function readString(dataSet: DataSet, tag: string): string {
  const element = dataSet.elements[tag];
  if (!element || element.length === 0) return '';
  return (dataSet.string(tag) ?? '').replace(/\0+$/, '').trim();
}

/** Person names, descriptions, IDs: decoded with the file's character set. */
export function readText(dataSet: DataSet, tag: string, charsetLabel: string): string {
  const element = dataSet.elements[tag];
  if (!element || element.length === 0) return '';
  const end = Math.min(dataSet.byteArray.length, element.dataOffset + element.length);
  return decodeText(dataSet.byteArray.subarray(element.dataOffset, end), charsetLabel);
}

export function readUint16(dataSet: DataSet, tag: string): number | null {
  const element = dataSet.elements[tag];
  if (!element || element.length < 2) return null;
  return dataSet.uint16(tag) ?? null;
}

export type IntegerString = { kind: 'absent' } | { kind: 'value'; value: number } | { kind: 'invalid'; raw: string };

export function readIntegerString(dataSet: DataSet, tag: string): IntegerString {
  const raw = readString(dataSet, tag);
  if (raw === '') return { kind: 'absent' };
  if (!/^[+-]?\d{1,12}$/.test(raw)) return { kind: 'invalid', raw };
  return { kind: 'value', value: Number(raw) };
}

export function readInteger(dataSet: DataSet, tag: string): number | null {
  const parsed = readIntegerString(dataSet, tag);
  return parsed.kind === 'value' ? parsed.value : null;
}

/** A multi-valued DS as numbers, or null unless it has exactly `count` finite values. */
export function readDecimals(dataSet: DataSet | undefined, tag: string, count: number): number[] | null {
  if (!dataSet) return null;
  const values = readDecimalList(dataSet, tag);
  return values && values.length === count ? values : null;
}

export function readDecimalList(dataSet: DataSet, tag: string): number[] | null {
  const raw = readString(dataSet, tag);
  if (raw === '') return null;
  const values = raw.split('\\').map((v) => (v.trim() === '' ? Number.NaN : Number(v)));
  return values.every(Number.isFinite) ? values : null;
}

export function readDecimal(dataSet: DataSet | undefined, tag: string): number | null {
  return readDecimals(dataSet, tag, 1)?.[0] ?? null;
}

/** The data set of the first item of a sequence, if any. */
export function firstItem(dataSet: DataSet | undefined, tag: string): DataSet | undefined {
  return dataSet?.elements[tag]?.items?.[0]?.dataSet;
}
