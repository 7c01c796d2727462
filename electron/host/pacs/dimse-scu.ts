// The DIMSE services the workstation uses as a client: C-ECHO, C-FIND, C-GET, C-MOVE
// and C-STORE, each as one association through runAssociation.
import dcmjsDimse from 'dcmjs-dimse';
import { readFileSync } from 'node:fs';
import type { DimseNode, FindQuery, PacsFailure, SeriesResult, SkippedInstance, SkippedInstances, StudyResult } from '../../common/contract-pacs.ts';
import { describeNode, runAssociation, Status, TransferSyntax, type Association, type DimseRequest, type DimseTimeouts } from './dimse-association.ts';
import type { InstanceInfo } from './instance-info.ts';
import type { InstanceStore, StoredInstance } from './instance-store.ts';
import { dimseStatusFailure, pacsFailure } from './pacs-failure.ts';
import { recordFromNaturalized, seriesFindIdentifier, sortSeries, sortStudies, studyFindIdentifier, toSeriesResult, toStudyResult } from './query.ts';
import { SkippedList } from './skipped-instances.ts';

const { Dataset } = dcmjsDimse;
const { CEchoRequest, CFindRequest, CGetRequest, CMoveRequest, CStoreRequest } = dcmjsDimse.requests;
type Response = InstanceType<typeof dcmjsDimse.responses.Response>;
type SubOperationResponse = InstanceType<typeof dcmjsDimse.responses.CGetResponse>;

export type DimseTarget = Pick<DimseNode, 'host' | 'port' | 'calledAet' | 'callingAet' | 'tls'>;

const isPending = (status: number) => status === Status.Pending || status === 0xff01;
const isWarning = (status: number) => status === 0x0001 || (status & 0xf000) === 0xb000;

export async function dimseEcho(node: DimseTarget, timeouts?: Partial<DimseTimeouts>): Promise<{ failure: PacsFailure | null }> {
  const request = new CEchoRequest();
  let status: number | undefined;
  request.on('response', (response: Response) => {
    status = response.getStatus();
  });
  const outcome = await runAssociation([request], { node, ...(timeouts ? { timeouts } : {}) });
  if (outcome.failure) return { failure: outcome.failure };
  if (status === undefined) return { failure: pacsFailure('not-accepted', `${describeNode(node)} accepted the association but not the Verification service (C-ECHO).`) };
  if (status !== Status.Success) return { failure: dimseStatusFailure('C-ECHO', status, undefined, describeNode(node)) };
  return { failure: null };
}

export interface DimseFindResult {
  studies: StudyResult[];
  series: SeriesResult[];
  truncated: boolean;
  failure: PacsFailure | null;
}

/** Study-level C-FIND; when the query names a study, a series-level C-FIND for it in the same association. */
export async function dimseFind(node: DimseTarget, query: FindQuery, limit: number, signal?: AbortSignal): Promise<DimseFindResult> {
  const target = describeNode(node);
  const studies: StudyResult[] = [];
  const series: SeriesResult[] = [];
  let truncated = false;
  let failure: PacsFailure | null = null;
  const requests: DimseRequest[] = [];
  let cancelRequest: ((request: DimseRequest) => void) | undefined;

  const collect = (request: DimseRequest, sink: (elements: Record<string, unknown>) => void, label: string) => {
    let count = 0;
    let finalStatus: number | undefined;
    request.on('response', (response: Response) => {
      const status = response.getStatus();
      if (isPending(status)) {
        const dataset = response.getDataset();
        if (!dataset) return;
        count++;
        if (count > limit) {
          // A limit reached mid-way cancels the rest with C-CANCEL; the PACS then ends the query normally.
          if (!truncated) {
            truncated = true;
            cancelRequest?.(request);
          }
          return;
        }
        sink(dataset.getElements());
      } else {
        finalStatus = status;
        if (status !== Status.Success && status !== Status.Cancel && !isWarning(status)) {
          failure ??= dimseStatusFailure(`C-FIND (${label})`, status, response.getErrorComment(), target);
        }
      }
    });
    return () => finalStatus;
  };

  const studyRequest = CFindRequest.createStudyFindRequest(studyFindIdentifier(query));
  const studyStatus = collect(studyRequest, (elements) => studies.push(toStudyResult(recordFromNaturalized(elements))), 'study level');
  requests.push(studyRequest);
  let seriesStatus: (() => number | undefined) | undefined;
  if (query.studyInstanceUid) {
    const seriesRequest = CFindRequest.createSeriesFindRequest(seriesFindIdentifier(query.studyInstanceUid));
    seriesStatus = collect(seriesRequest, (elements) => series.push(toSeriesResult(recordFromNaturalized(elements))), 'series level');
    requests.push(seriesRequest);
  }
  let accepted: Association | undefined;
  const outcome = await runAssociation(requests, {
    node,
    ...(signal ? { signal } : {}),
    onAccepted: (association, cancel) => {
      accepted = association;
      cancelRequest = cancel;
    },
  });
  if (outcome.cancelled) return { studies, series, truncated, failure: pacsFailure('cancelled', 'The query was cancelled.') };
  failure ??= outcome.failure;
  if (!failure && accepted && studyStatus() === undefined) {
    failure = pacsFailure('not-accepted', `${target} did not accept the Study Root C-FIND service.`);
  }
  if (!failure && seriesStatus && seriesStatus() === undefined) {
    failure = pacsFailure('protocol', `${target} did not answer the series-level C-FIND.`);
  }
  return { studies: sortStudies(studies), series: sortSeries(series), truncated, failure };
}

/** Whether the PACS holds an instance: an IMAGE-level C-FIND on the SOP Instance UID (the outbox's delivery check). */
export async function dimseHasInstance(
  node: DimseTarget,
  instance: Pick<InstanceInfo, 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'>,
): Promise<{ found: boolean; failure: PacsFailure | null }> {
  const request = CFindRequest.createImageFindRequest({
    StudyInstanceUID: instance.studyInstanceUid,
    SeriesInstanceUID: instance.seriesInstanceUid,
    SOPInstanceUID: instance.sopInstanceUid,
  });
  let found = false;
  let finalStatus: number | undefined;
  let comment: string | undefined;
  request.on('response', (response: Response) => {
    const status = response.getStatus();
    if (isPending(status)) {
      const elements = response.getDataset()?.getElements() ?? {};
      if (String(elements.SOPInstanceUID ?? '').trim() === instance.sopInstanceUid) found = true;
    } else {
      finalStatus = status;
      comment = response.getErrorComment();
    }
  });
  const outcome = await runAssociation([request], { node });
  if (outcome.failure) return { found: false, failure: outcome.failure };
  if (finalStatus === undefined) return { found: false, failure: pacsFailure('not-accepted', `${describeNode(node)} did not answer the IMAGE-level C-FIND.`) };
  if (finalStatus !== Status.Success && !isWarning(finalStatus)) {
    return { found: false, failure: dimseStatusFailure('C-FIND (image level)', finalStatus, comment, describeNode(node)) };
  }
  return { found, failure: null };
}

export interface SubOperationProgress {
  remaining: number | null;
  completed: number;
  failed: number;
  warnings: number;
}

export interface DimseRetrieveOptions {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  signal?: AbortSignal;
  onProgress?: (progress: SubOperationProgress) => void;
}

export interface DimseRetrieveResult {
  progress: SubOperationProgress;
  cancelled: boolean;
  failure: PacsFailure | null;
}

function trackSubOperations(request: DimseRequest, operation: string, target: string, onProgress?: (progress: SubOperationProgress) => void) {
  const progress: SubOperationProgress = { remaining: null, completed: 0, failed: 0, warnings: 0 };
  let finalStatus: number | undefined;
  let comment: string | undefined;
  request.on('response', (response: SubOperationResponse) => {
    const status = response.getStatus();
    const remaining = response.getRemaining();
    progress.remaining = typeof remaining === 'number' ? remaining : progress.remaining;
    progress.completed = response.getCompleted() ?? progress.completed;
    progress.failed = response.getFailures() ?? progress.failed;
    progress.warnings = response.getWarnings() ?? progress.warnings;
    if (!isPending(status)) {
      finalStatus = status;
      comment = response.getErrorComment();
      if (status === Status.Success || isWarning(status) || status === Status.Cancel) progress.remaining = 0;
    }
    onProgress?.({ ...progress });
  });
  return {
    progress,
    failure(): PacsFailure | null {
      if (finalStatus === undefined) return pacsFailure('protocol', `${target} ended the ${operation} without a final status.`);
      // 0xA702 and 0xB000 carry "some sub-operations failed": counted in progress.failed, not a failure of the whole.
      if (finalStatus === Status.Success || finalStatus === Status.Cancel || isWarning(finalStatus) || finalStatus === 0xa702) return null;
      return dimseStatusFailure(operation, finalStatus, comment, target);
    },
  };
}

export interface DimseGetResult extends DimseRetrieveResult {
  /**
   * The C-STORE sub-operations we refused (0xA700), each with its reason. The PACS counts
   * them among its failed sub-operations too (progress.failed): it only knows they failed.
   */
  skipped: SkippedInstances;
}

/** C-GET: the PACS sends the instances back on our association; we write each to the store. */
export async function dimseGet(
  node: DimseTarget,
  store: InstanceStore,
  options: DimseRetrieveOptions & { onStored?: (instance: StoredInstance) => void; onSkipped?: (skipped: SkippedInstance) => void },
): Promise<DimseGetResult> {
  const target = describeNode(node);
  const request = options.seriesInstanceUid
    ? CGetRequest.createSeriesGetRequest(options.studyInstanceUid, options.seriesInstanceUid)
    : CGetRequest.createStudyGetRequest(options.studyInstanceUid);
  const tracker = trackSubOperations(request, 'C-GET', target, options.onProgress);
  let getAccepted = true;
  const skipped = new SkippedList();
  const outcome = await runAssociation([request], {
    node,
    receiveStorage: true,
    incoming: store,
    ...(options.onStored ? { onStored: options.onStored } : {}),
    onRefused: (refusal) => {
      // Recorded first: an optional call would skip evaluating its argument.
      const entry = skipped.add(refusal);
      options.onSkipped?.(entry);
    },
    ...(options.signal ? { signal: options.signal } : {}),
    onCancel: (cancel) => cancel(request),
    onAccepted: (association) => {
      getAccepted = association.getAcceptedPresentationContextFromRequest(request) !== undefined;
    },
  });
  const ended = (failure: PacsFailure | null, cancelled = false): DimseGetResult => ({ progress: tracker.progress, skipped: skipped.report(), cancelled, failure });
  if (outcome.cancelled) return ended(null, true);
  if (outcome.failure) return ended(outcome.failure);
  if (!getAccepted) return ended(pacsFailure('not-accepted', `${target} does not offer C-GET (Study Root): use C-MOVE for this node.`));
  return ended(tracker.failure());
}

/** C-MOVE: the PACS opens its own association to destinationAet (our storage listener) and stores there. */
export async function dimseMove(node: DimseTarget, destinationAet: string, options: DimseRetrieveOptions): Promise<DimseRetrieveResult> {
  const target = describeNode(node);
  const request = options.seriesInstanceUid
    ? CMoveRequest.createSeriesMoveRequest(destinationAet, options.studyInstanceUid, options.seriesInstanceUid)
    : CMoveRequest.createStudyMoveRequest(destinationAet, options.studyInstanceUid);
  const tracker = trackSubOperations(request, 'C-MOVE', target, options.onProgress);
  const outcome = await runAssociation([request], {
    node,
    ...(options.signal ? { signal: options.signal } : {}),
    onCancel: (cancel) => cancel(request),
  });
  if (outcome.cancelled) return { progress: tracker.progress, cancelled: true, failure: null };
  if (outcome.failure) return { progress: tracker.progress, cancelled: false, failure: outcome.failure };
  const failure = tracker.failure();
  if (failure?.dimseStatus === 0xa801) {
    failure.message += ` Register ${destinationAet} at the PACS with this machine's address and the listener port.`;
  }
  return { progress: tracker.progress, cancelled: false, failure };
}

/**
 * A file's data set as dcmjs-dimse sends it: the bytes from disk, untouched, when the
 * PACS accepts the file's transfer syntax. Only when it accepts another (uncompressed)
 * one does dcmjs-dimse ask for the elements, and then we parse the file for it to transcode.
 */
class FileDataset extends Dataset {
  private readonly file: string;
  private readonly datasetOffset: number;
  private readonly fileTransferSyntaxUid: string;
  private parsedElements: Record<string, unknown> | undefined;

  constructor(file: string, info: Pick<InstanceInfo, 'sopClassUid' | 'sopInstanceUid' | 'transferSyntaxUid' | 'datasetOffset'>) {
    super({ SOPClassUID: info.sopClassUid, SOPInstanceUID: info.sopInstanceUid }, info.transferSyntaxUid);
    this.file = file;
    this.datasetOffset = info.datasetOffset;
    this.fileTransferSyntaxUid = info.transferSyntaxUid;
  }

  override getElements(): Record<string, unknown> {
    this.parsedElements ??= Dataset.fromFile(this.file)?.getElements() ?? {};
    return this.parsedElements;
  }

  override getDenaturalizedDataset(writeOptions?: Record<string, unknown>, nameMap?: Record<string, unknown>): Buffer {
    if (this.getTransferSyntaxUid() === this.fileTransferSyntaxUid) return readFileSync(this.file).subarray(this.datasetOffset);
    return super.getDenaturalizedDataset(writeOptions, nameMap);
  }
}

export interface StoreItem {
  path: string;
  info: Pick<InstanceInfo, 'sopClassUid' | 'sopInstanceUid' | 'transferSyntaxUid' | 'datasetOffset'>;
}

export type StoreOutcome =
  | { delivered: true; status: number }
  /** uncertain: the data set may have reached the PACS (sent, then the connection failed before its answer). */
  | { delivered: false; failure: PacsFailure; uncertain: boolean };

/** C-STORE of several files in one association; one outcome per file, in order. */
export async function dimseStore(node: DimseTarget, items: StoreItem[], timeouts?: Partial<DimseTimeouts>): Promise<StoreOutcome[]> {
  const target = describeNode(node);
  const outcomes: (StoreOutcome | undefined)[] = items.map(() => undefined);
  const requests = items.map((item, index) => {
    const request = new CStoreRequest(new FileDataset(item.path, item.info));
    request.on('response', (response: Response) => {
      const status = response.getStatus();
      if (status === Status.Success || isWarning(status)) outcomes[index] = { delivered: true, status };
      else {
        outcomes[index] = {
          delivered: false,
          failure: dimseStatusFailure('C-STORE', status, response.getErrorComment(), target),
          uncertain: false,
        };
      }
    });
    request.on('done', () => {
      // dcmjs-dimse ends a request without a response when it could not encode it (transcoding refused).
      outcomes[index] ??= {
        delivered: false,
        failure: pacsFailure('not-accepted', `${target} accepted ${item.info.sopClassUid} only in a transfer syntax this file (${item.info.transferSyntaxUid}) cannot be converted to.`),
        uncertain: false,
      };
    });
    return request;
  });
  let association: Association | undefined;
  const outcome = await runAssociation(requests, {
    node,
    ...(timeouts ? { timeouts } : {}),
    adjustContexts: (proposed) => proposeExactTransferSyntaxes(proposed, items),
    onAccepted: (accepted) => {
      association = accepted;
    },
  });
  let inFlightSeen = false;
  return items.map((item, index) => {
    const known = outcomes[index];
    if (known) return known;
    const request = requests[index]!;
    if (association && association.getAcceptedPresentationContextFromRequest(request) === undefined) {
      return {
        delivered: false,
        failure: pacsFailure('not-accepted', `${target} does not accept SOP class ${item.info.sopClassUid} (presentation context rejected).`),
        uncertain: false,
      };
    }
    // Requests go one after the other: the first one left without an answer was on the wire.
    const uncertain = outcome.accepted && !inFlightSeen;
    if (outcome.accepted) inFlightSeen = true;
    const failure = outcome.failure ?? pacsFailure('connection-lost', `${target} ended the association before answering.`);
    return { delivered: false, failure, uncertain };
  });
}

/**
 * dcmjs-dimse proposes Implicit and Explicit VR Little Endian together in one context per
 * SOP class, and the PACS picks one: often not the file's, which forces a re-encode. We
 * propose each file's own transfer syntax alone in a context of its own (so the PACS can
 * accept exactly it and the bytes go out untouched), and keep Implicit VR Little Endian,
 * which every SCP must accept, as the fallback.
 */
function proposeExactTransferSyntaxes(association: Association, items: StoreItem[]): void {
  const syntaxesByClass = new Map<string, Set<string>>();
  for (const item of items) {
    const set = syntaxesByClass.get(item.info.sopClassUid) ?? new Set<string>();
    set.add(item.info.transferSyntaxUid);
    syntaxesByClass.set(item.info.sopClassUid, set);
  }
  const contexts = association.getPresentationContexts().map((entry) => association.getPresentationContext(entry.id));
  for (const [sopClass, syntaxes] of syntaxesByClass) {
    const ofClass = contexts.filter((context) => context.getAbstractSyntaxUid() === sopClass);
    const general = ofClass.find((context) => context.hasTransferSyntaxUid(TransferSyntax.ImplicitVRLittleEndian));
    if (general) {
      for (const syntax of general.getTransferSyntaxUids()) {
        if (syntax !== TransferSyntax.ImplicitVRLittleEndian) general.removeTransferSyntaxUid(syntax);
      }
    }
    for (const syntax of syntaxes) {
      if (syntax === TransferSyntax.ImplicitVRLittleEndian) continue;
      const exact = ofClass.some((context) => context !== general && context.getTransferSyntaxUids().length === 1 && context.hasTransferSyntaxUid(syntax));
      if (!exact) {
        const id = association.addPresentationContext(sopClass);
        association.addTransferSyntaxToPresentationContext(id, syntax);
      }
    }
  }
}
