// Value formatting for the writers: new UIDs, DA/TM/DT from a Date, DS strings.
import { randomUUID } from 'node:crypto';
export { formatDecimalString } from '../sample/write-ct-series.ts';

/** A new UID under the UUID-derived root 2.25 (PS3.5 B.2): random, at most 44 characters. */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** DA (YYYYMMDD) in local time, as a workstation user reads it. */
export function dicomDate(date: Date): string {
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`;
}

/** TM (HHMMSS.FFFFFF) in local time. */
export function dicomTime(date: Date): string {
  return `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}.${pad(date.getMilliseconds() * 1000, 6)}`;
}

/** DT (YYYYMMDDHHMMSS.FFFFFF&ZZXX) with the local UTC offset. */
export function dicomDateTime(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${dicomDate(date)}${dicomTime(date)}${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
}

/** A Code Sequence item in dcmjs's naturalized form. */
export function codeItem(code: { value: string; scheme: string; meaning: string }): Record<string, string> {
  return { CodeValue: code.value, CodingSchemeDesignator: code.scheme, CodeMeaning: code.meaning };
}
