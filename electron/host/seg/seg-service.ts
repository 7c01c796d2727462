// The host's segmentation service behind segCalls (electron/common/contract-seg.ts):
// SEG export and import in a worker thread, the SEG summary, and autosave. The lead
// wires `segHandlers(service)` into the host's handler table.
import path from 'node:path';
import type { z } from 'zod';
import {
  encodeLabelmap,
  segCalls,
  type SegExportResult,
  type SegImportResult,
  type SegInfo,
} from '../../common/contract-seg.ts';
import { mkdirPrivate } from '../atomic-file.ts';
import { HostError } from '../dispatch.ts';
import type { DicomIndex } from '../dicom/dicom-index.ts';
import { AutosaveError, AutosaveStore } from './autosave.ts';
import { newUid } from './dicom-values.ts';
import { inspectParsedSeg, readSegFile, runExportJob, runImportJob, type ExportJobInput, type ImportJobOutput, type SegInspection } from './seg-jobs.ts';
import { SegReadError } from './seg-reader.ts';
import { findReportFor } from './report-lookup.ts';
import { applyReport } from './report-provenance.ts';
import { withSegWorker } from './seg-worker-client.ts';
import { findSourceSeriesKey, sourceNotLoadedMessage } from './source-lookup.ts';
import { sourceSeriesFromHost } from './source-from-index.ts';
import type { SourceSeriesInit } from './source-series.ts';
import { SegValidationError } from './validation.ts';

export type SegCallName = keyof typeof segCalls;
export type SegCallParams<M extends SegCallName> = z.output<(typeof segCalls)[M]['params']>;
export type SegCallResult<M extends SegCallName> = z.infer<(typeof segCalls)[M]['result']>;
export type SegCallHandlers = { [M in SegCallName]: (params: SegCallParams<M>) => Promise<SegCallResult<M>> };
export type SegEventSink = (event: 'seg.exported' | 'seg.autosaved', payload: Record<string, unknown>) => void;

export interface SegServiceOptions {
  index: Pick<DicomIndex, 'hostSeries' | 'patients' | 'pathForFileKey'>;
  dataDir: string;
  /** Default folder for exports; <dataDir>/segmentations when left out. */
  exportDir?: string;
  /** Refuses paths the shell has not granted (Electron): return a sentence to refuse, null to allow. */
  checkPath?: (absolutePath: string, access: 'read' | 'write') => string | null;
  /** Called with the files an export wrote, e.g. to index them so they appear in the study. */
  onWritten?: (paths: string[]) => Promise<void>;
  emit?: SegEventSink;
  /** Runs jobs on the calling thread (CLI one-shots, tests); the host uses the worker. */
  inline?: boolean;
}

export class SegService {
  readonly #options: SegServiceOptions;
  readonly autosaves: AutosaveStore;

  constructor(options: SegServiceOptions) {
    this.#options = options;
    this.autosaves = new AutosaveStore(path.join(options.dataDir, 'autosave'));
  }

  async exportSeg(params: SegCallParams<'seg.export'>): Promise<SegExportResult> {
    const started = performance.now();
    const host = this.#options.index.hostSeries(params.seriesKey);
    if (!host) throw new HostError('not-found', `No series "${params.seriesKey}" in the index.`);
    const source = await mapErrors(() => sourceSeriesFromHost(host));
    const outDir = path.resolve(params.outDir ?? this.#options.exportDir ?? path.join(this.#options.dataDir, 'segmentations'));
    this.#check(outDir, 'write');
    await mkdirPrivate(outDir);
    const sopInstanceUid = newUid();
    const seriesNumber = this.#nextSeriesNumber(source.patientStudy.studyInstanceUid);
    const input: ExportJobInput = {
      source: source.toInit(),
      segments: params.segmentation.segments,
      labelmap: params.segmentation.labelmap,
      type: params.type,
      compression: params.compression,
      segPath: path.join(outDir, `SEG-${sopInstanceUid}.dcm`),
      sourceFiles: host.slices.map((s) => ({ path: s.path, frame: s.frame })),
      srPath: params.withSr ? path.join(outDir, `SR-${sopInstanceUid}.dcm`) : null,
      segOptions: {
        sopInstanceUid,
        seriesNumber,
        ...(params.seriesDescription !== undefined ? { seriesDescription: params.seriesDescription } : {}),
        ...(params.contentCreatorName !== undefined ? { contentCreatorName: params.contentCreatorName } : {}),
        ...(params.supersedes ? { supersedes: params.supersedes } : {}),
      },
      srOptions: {
        seriesNumber: seriesNumber + 1,
        predecessor: params.supersedes ? await this.#reportOf(source.patientStudy.studyInstanceUid, params.supersedes.sopInstanceUid) : null,
      },
    };
    const output = await mapErrors(() => (this.#options.inline ? runExportJob(input) : withSegWorker((w) => w.request({ op: 'export', input }))));
    const written = [output.seg.path, ...(output.sr ? [output.sr.path] : [])];
    await this.#options.onWritten?.(written);
    this.#options.emit?.('seg.exported', { seriesKey: params.seriesKey, segPath: output.seg.path, srPath: output.sr?.path ?? null });
    return {
      seg: {
        path: output.seg.path,
        sopInstanceUid: output.seg.sopInstanceUid,
        seriesInstanceUid: output.seg.seriesInstanceUid,
        bytes: output.seg.bytes,
        frames: output.seg.frames,
        type: output.seg.type,
        transferSyntaxUid: output.seg.transferSyntaxUid,
      },
      sr: output.sr,
      elapsedMs: performance.now() - started,
    };
  }

  async importSeg(params: SegCallParams<'seg.import'>): Promise<SegImportResult> {
    const started = performance.now();
    const file = this.#resolveFile(params);
    const run = async (inspect: () => Promise<SegInspection>, align: (source: SourceSeriesInit) => Promise<ImportJobOutput>) => {
      const inspection = await inspect();
      const seriesKey = params.seriesKey ?? findSourceSeriesKey(this.#options.index, inspection);
      if (seriesKey === null) throw new HostError('not-found', sourceNotLoadedMessage(inspection));
      const host = this.#options.index.hostSeries(seriesKey);
      if (!host) throw new HostError('not-found', `No series "${seriesKey}" in the index.`);
      const source = await sourceSeriesFromHost(host);
      return { seriesKey, source, output: await align(source.toInit()) };
    };
    const { seriesKey, source, output } = await mapErrors(() => {
      if (this.#options.inline) {
        let parsed: Awaited<ReturnType<typeof readSegFile>>;
        return run(
          async () => inspectParsedSeg((parsed = await readSegFile(file))),
          async (source) => runImportJob(parsed, source, { encode: true }),
        );
      }
      return withSegWorker((w) =>
        run(
          () => w.request({ op: 'inspect', path: file }),
          (source) => w.request({ op: 'import', source, encode: true }),
        ),
      );
    });
    const warnings = [...output.warnings];
    const found = await findReportFor(this.#options.index, output.info.studyInstanceUid, output.info.sopInstanceUid);
    const segments = found ? applyReport(output.segments, output.originalNumbers, output.info.sopInstanceUid, found.report, source, warnings) : output.segments;
    return {
      seriesKey,
      info: output.info,
      segments: segments.map((s, i) => ({ ...s, originalNumber: output.originalNumbers[i]! })),
      report: found ? { sopInstanceUid: found.report.sopInstanceUid, seriesInstanceUid: found.report.seriesInstanceUid, path: found.path } : null,
      labelmap: output.payload ?? encodeLabelmap(output.labelmap),
      warnings,
      elapsedMs: performance.now() - started,
    };
  }

  async info(params: SegCallParams<'seg.info'>): Promise<SegInfo> {
    const file = this.#resolveFile(params);
    return mapErrors(async () =>
      this.#options.inline ? inspectParsedSeg(await readSegFile(file)).info : (await withSegWorker((w) => w.request({ op: 'inspect', path: file }))).info,
    );
  }

  async autosave(params: SegCallParams<'seg.autosave'>): Promise<SegCallResult<'seg.autosave'>> {
    const saved = await mapErrors(() => this.autosaves.save(params));
    this.#options.emit?.('seg.autosaved', { sessionId: params.sessionId, savedAt: saved.savedAt, bytes: saved.bytes });
    return { savedAt: saved.savedAt, bytes: saved.bytes };
  }

  async listAutosaves(): Promise<SegCallResult<'seg.listAutosaves'>> {
    await this.autosaves.removeStaleTempFiles();
    return { autosaves: await this.autosaves.list() };
  }

  async restore(params: SegCallParams<'seg.restore'>): Promise<SegCallResult<'seg.restore'>> {
    const record = await mapErrors(() => this.autosaves.load(params.sessionId));
    return { sessionId: record.sessionId, seriesKey: record.seriesKey, savedAt: record.savedAt, segmentation: record.segmentation };
  }

  async discardAutosave(params: SegCallParams<'seg.discardAutosave'>): Promise<SegCallResult<'seg.discardAutosave'>> {
    return { discarded: await mapErrors(() => this.autosaves.discard(params.sessionId)) };
  }

  #resolveFile(params: { fileKey?: string | undefined; path?: string | undefined }): string {
    if (params.fileKey !== undefined) {
      const file = this.#options.index.pathForFileKey(params.fileKey);
      if (!file) throw new HostError('not-found', `No file with key "${params.fileKey}" in the index.`);
      return file;
    }
    const file = path.resolve(params.path!);
    this.#check(file, 'read');
    return file;
  }

  #check(absolutePath: string, access: 'read' | 'write'): void {
    const refusal = this.#options.checkPath?.(absolutePath, access);
    if (refusal) throw new HostError('forbidden-path', refusal);
  }

  async #reportOf(studyInstanceUid: string, segSopInstanceUid: string): Promise<{ sopInstanceUid: string; seriesInstanceUid: string } | null> {
    const found = await findReportFor(this.#options.index, studyInstanceUid, segSopInstanceUid);
    return found ? { sopInstanceUid: found.report.sopInstanceUid, seriesInstanceUid: found.report.seriesInstanceUid } : null;
  }

  /** One above the highest series number in the study, so a new version sorts after the old ones. */
  #nextSeriesNumber(studyInstanceUid: string): number {
    let highest = 0;
    for (const patient of this.#options.index.patients()) {
      for (const study of patient.studies) {
        if (study.studyInstanceUid !== studyInstanceUid) continue;
        for (const series of study.series) highest = Math.max(highest, series.seriesNumber ?? 0);
      }
    }
    return Math.max(300, highest + 1);
  }
}

/** The handler table for segCalls, in the shape of the host's CallHandlers. */
export function segHandlers(service: SegService): SegCallHandlers {
  return {
    'seg.export': (params) => service.exportSeg(params),
    'seg.import': (params) => service.importSeg(params),
    'seg.info': (params) => service.info(params),
    'seg.autosave': (params) => service.autosave(params),
    'seg.listAutosaves': () => service.listAutosaves(),
    'seg.restore': (params) => service.restore(params),
    'seg.discardAutosave': (params) => service.discardAutosave(params),
  };
}

/** Domain errors become contract errors with their precise messages. */
async function mapErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HostError) throw error;
    if (error instanceof SegValidationError) throw new HostError('invalid-params', error.message);
    if (error instanceof SegReadError) throw new HostError('unsupported', error.message);
    if (error instanceof AutosaveError) throw new HostError('not-found', error.message);
    // A payload decoded in the worker comes back as a plain Error named RangeError.
    if (error instanceof Error && error.name === 'RangeError' && /labelmap payload/.test(error.message)) throw new HostError('invalid-params', error.message);
    throw error;
  }
}
