// What the PACS code needs to know about a Part 10 file: its SOP identity (to send
// it and to ask a PACS whether it has it) and its study and series (to file what
// arrives under <store>/<study>/<series>/).
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { open, readFile } from 'node:fs/promises';
import { budgetedInflater, InflateBudgetError } from '../dicom/inflate-budget.ts';
import { NotPart10Error, readPart10Header } from './part10.ts';

export interface InstanceInfo {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  transferSyntaxUid: string;
  datasetOffset: number;
  bytes: number;
}

/** Study and series UIDs sit in group 0020, before the bulk of most files: read a prefix first. */
const PREFIX_BYTES = 256 * 1024;

export async function readInstanceInfo(file: string): Promise<InstanceInfo> {
  const handle = await open(file, 'r');
  let prefix: Buffer;
  let size: number;
  try {
    size = (await handle.stat()).size;
    prefix = Buffer.alloc(Math.min(size, PREFIX_BYTES));
    await handle.read(prefix, 0, prefix.length, 0);
  } finally {
    await handle.close();
  }
  let info: InstanceInfo | undefined;
  try {
    info = instanceInfoFromBytes(prefix, size);
  } catch (error) {
    // A deflated data set cannot be inflated from a prefix: only a whole file decides.
    if (size === prefix.length || !(error instanceof NotPart10Error) || !/unreadable data set/.test(error.message)) throw error;
  }
  if ((!info || !info.studyInstanceUid || !info.seriesInstanceUid || !info.sopInstanceUid) && size > prefix.length) {
    info = instanceInfoFromBytes(await readFile(file), size);
  }
  if (!info) throw new NotPart10Error('unreadable data set');
  if (!info.sopInstanceUid || !info.sopClassUid) {
    throw new NotPart10Error('no SOP Class UID or SOP Instance UID in the file');
  }
  return info;
}

/** From a whole file or a prefix of one (a data set cut short still yields what came before the cut). */
export function instanceInfoFromBytes(bytes: Uint8Array, fileSize = bytes.length): InstanceInfo {
  const header = readPart10Header(bytes);
  let dataSet: DataSet | undefined;
  try {
    // dicom-parser's own inflate has no output limit; this file may have come from any peer.
    dataSet = dicomParser.parseDicom(bytes, { untilTag: 'x0020000e', inflater: budgetedInflater });
  } catch (error) {
    if (error instanceof InflateBudgetError) throw new NotPart10Error(error.message);
    // dicom-parser hands over what it parsed before the end of the bytes.
    dataSet = (error as { dataSet?: DataSet }).dataSet;
    if (!dataSet) throw new NotPart10Error(`unreadable data set: ${error instanceof Error ? error.message : String(error)}`);
  }
  const text = (tag: string) => (dataSet?.string(tag) ?? '').trim();
  return {
    sopClassUid: text('x00080016') || header.mediaStorageSopClassUid,
    sopInstanceUid: text('x00080018') || header.mediaStorageSopInstanceUid,
    studyInstanceUid: text('x0020000d'),
    seriesInstanceUid: text('x0020000e'),
    modality: text('x00080060'),
    transferSyntaxUid: header.transferSyntaxUid,
    datasetOffset: header.datasetOffset,
    bytes: fileSize,
  };
}
