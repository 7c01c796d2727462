// Builds a SourceSeries from what the DICOM index knows of a series (slices in slice
// order, geometry) plus the patient and study attributes of its first file, which the
// index does not keep but a derived object must copy.
import { readFile } from 'node:fs/promises';
import type { HostSeries } from '../dicom/import-types.ts';
import { parseHeader } from '../dicom/dataset-parser.ts';
import { readDecimal, readString, readText } from '../dicom/dataset-values.ts';
import { decoderLabelFor } from '../dicom/text-decoding.ts';
import { SegReadError } from './seg-reader.ts';
import { SourceSeries, type PatientStudy } from './source-series.ts';

export interface FirstFileFacts {
  patientStudy: PatientStudy;
  sliceThickness: number | null;
}

export async function readPatientStudy(path: string): Promise<FirstFileFacts> {
  const bytes = await readFile(path);
  const { dataSet } = parseHeader(bytes, bytes.length);
  const charset = decoderLabelFor(readString(dataSet, 'x00080005'));
  const text = (tag: string) => readText(dataSet, tag, charset);
  return {
    patientStudy: {
      patientName: text('x00100010'),
      patientId: text('x00100020'),
      patientBirthDate: readString(dataSet, 'x00100030'),
      patientSex: readString(dataSet, 'x00100040'),
      studyInstanceUid: readString(dataSet, 'x0020000d'),
      studyDate: readString(dataSet, 'x00080020'),
      studyTime: readString(dataSet, 'x00080030'),
      studyId: text('x00200010'),
      accessionNumber: text('x00080050'),
      referringPhysicianName: text('x00080090'),
      studyDescription: text('x00081030'),
    },
    sliceThickness: readDecimal(dataSet, 'x00180050'),
  };
}

/** The SourceSeries of an indexed image series; throws a SegReadError that says what is missing. */
export async function sourceSeriesFromHost(series: HostSeries): Promise<SourceSeries> {
  const { summary } = series;
  const geometry = summary.geometry;
  const name = summary.seriesKey;
  if (series.slices.length === 0 || !geometry) throw new SegReadError(`Series ${name} (${summary.kind}) has no image slices to segment`);
  if (!geometry.pixelSpacing || !geometry.orientation) throw new SegReadError(`Series ${name} has no PixelSpacing or ImageOrientationPatient: a SEG needs the source geometry`);
  if (!geometry.frameOfReferenceUid) throw new SegReadError(`Series ${name} has no FrameOfReferenceUID: a SEG must share the source's Frame of Reference`);
  const missing = series.slices.findIndex((s) => !s.position);
  if (missing >= 0) throw new SegReadError(`Slice ${missing} of series ${name} has no ImagePositionPatient: a SEG must give each frame's position`);
  const facts = await readPatientStudy(series.slices[0]!.path);
  return new SourceSeries({
    seriesKey: summary.seriesKey,
    seriesInstanceUid: summary.seriesInstanceUid,
    frameOfReferenceUid: geometry.frameOfReferenceUid,
    rows: geometry.rows,
    columns: geometry.columns,
    pixelSpacing: geometry.pixelSpacing,
    orientation: geometry.orientation,
    sliceThickness: facts.sliceThickness,
    patientStudy: facts.patientStudy,
    slices: series.slices.map((s) => ({
      sopClassUid: summary.sopClassUid,
      sopInstanceUid: s.sopInstanceUid,
      frameNumber: s.frame,
      position: s.position!,
    })),
  });
}
