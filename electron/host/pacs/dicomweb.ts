// DICOMweb over Node's fetch: QIDO-RS (query), WADO-RS (retrieve, streamed to disk part
// by part) and STOW-RS (store). dicomweb-client needs XMLHttpRequest, which Node lacks;
// emulating a browser API to have the library turn it back into these same requests
// would add a layer without removing one, and the library buffers whole multipart
// answers in memory and flattens errors to "request failed". fetch gives streaming,
// AbortSignal for cancel and timeouts, and the socket error codes we classify.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { DicomwebAuth, DicomwebNode, FindQuery, PacsFailure, SeriesResult, SkippedInstance, SkippedInstances, StudyResult } from '../../common/contract-pacs.ts';
import type { InstanceInfo } from './instance-info.ts';
import { InstanceRefusedError, type InstanceStore, type StoredInstance } from './instance-store.ts';
import { encodeMultipart, newBoundary, parseContentType, readMultipart } from './multipart.ts';
import { httpFailure, pacsFailure, PacsError, socketFailure } from './pacs-failure.ts';
import { recordFromDicomJson, seriesQidoParams, sortSeries, sortStudies, studyQidoParams, toSeriesResult, toStudyResult } from './query.ts';
import type { StoreOutcome } from './dimse-scu.ts';
import { SkippedList } from './skipped-instances.ts';

export type DicomwebTarget = Pick<DicomwebNode, 'baseUrl' | 'auth'>;

export interface DicomwebTimeouts {
  /** A query or an echo, start to end. */
  requestMs: number;
  /** The longest silence while a WADO-RS answer streams in. */
  idleMs: number;
}

export const DEFAULT_DICOMWEB_TIMEOUTS: DicomwebTimeouts = { requestMs: 20_000, idleMs: 60_000 };

const DICOM_JSON = 'application/dicom+json';

function authHeaders(auth: DicomwebAuth): Record<string, string> {
  switch (auth.type) {
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    default:
      return {};
  }
}

function urlFor(target: DicomwebTarget, path: string, params?: URLSearchParams): string {
  const base = target.baseUrl.replace(/\/+$/, '');
  const pairs = params ? [...params.entries()].map(([key, value]) => `${queryEscape(key)}=${queryEscape(value)}`) : [];
  return `${base}${path}${pairs.length > 0 ? `?${pairs.join('&')}` : ''}`;
}

/**
 * Escapes what would break a query (%, &, =, +, #, space, non-ASCII) and leaves DICOM's
 * matching characters (^ * ? - , .) as they are: they are legal in a query, and some servers
 * (Orthanc's DICOMweb plugin among them) match on the raw text without decoding %5E or %2A.
 */
function queryEscape(text: string): string {
  return encodeURIComponent(text).replace(/%(5E|2A|3F|2C|3A|40|2F|21|24|27|28|29|3B)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** For messages: the base URL (never credentials; the schema keeps them out of URLs). */
export function describeDicomweb(target: Pick<DicomwebTarget, 'baseUrl'>): string {
  return target.baseUrl.replace(/\/+$/, '');
}

interface RequestOptions {
  method?: string;
  accept: string;
  body?: Uint8Array;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A request whose failures (network or HTTP) come back as PacsErrors with the precise reason. */
async function request(target: DicomwebTarget, url: string, options: RequestOptions): Promise<Response> {
  const label = describeDicomweb(target);
  const timeout = options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
  const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
  const headers: Record<string, string> = { accept: options.accept, ...authHeaders(target.auth) };
  if (options.contentType) headers['content-type'] = options.contentType;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body ? { body: options.body } : {}),
      ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
      redirect: 'follow',
    });
  } catch (error) {
    if (options.signal?.aborted) throw new PacsError(pacsFailure('cancelled', `Cancelled (${label}).`), { cause: error });
    if (timeout?.aborted) throw new PacsError(pacsFailure('timeout', `${label} did not answer within ${Math.round((options.timeoutMs ?? 0) / 1000)} s.`), { cause: error });
    throw new PacsError(socketFailure(error, label), { cause: error });
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw new PacsError(httpFailure(response.status, response.statusText, label, text));
  }
  return response;
}

async function readJsonArray(response: Response, label: string): Promise<Record<string, { vr?: string; Value?: unknown[] }>[]> {
  if (response.status === 204) return [];
  const text = await response.text();
  if (text.trim() === '') return [];
  try {
    const value = JSON.parse(text) as unknown;
    if (!Array.isArray(value)) throw new Error('not an array');
    return value as Record<string, { vr?: string; Value?: unknown[] }>[];
  } catch (error) {
    throw new PacsError(pacsFailure('protocol', `${label} answered with something other than DICOM JSON: ${error instanceof Error ? error.message : String(error)}`));
  }
}

/** "Test connection": the smallest QIDO-RS that must succeed on any DICOMweb server. */
export async function dicomwebEcho(target: DicomwebTarget, timeouts: Partial<DicomwebTimeouts> = {}): Promise<{ failure: PacsFailure | null }> {
  try {
    const response = await request(target, urlFor(target, '/studies', new URLSearchParams({ limit: '1' })), {
      accept: DICOM_JSON,
      timeoutMs: timeouts.requestMs ?? DEFAULT_DICOMWEB_TIMEOUTS.requestMs,
    });
    await readJsonArray(response, describeDicomweb(target));
    return { failure: null };
  } catch (error) {
    return { failure: failureOf(error, target) };
  }
}

function failureOf(error: unknown, target: DicomwebTarget): PacsFailure {
  return error instanceof PacsError ? error.failure : socketFailure(error, describeDicomweb(target));
}

export async function dicomwebFind(
  target: DicomwebTarget,
  query: FindQuery,
  limit: number,
  signal?: AbortSignal,
): Promise<{ studies: StudyResult[]; series: SeriesResult[]; truncated: boolean; failure: PacsFailure | null }> {
  const label = describeDicomweb(target);
  try {
    // One more than asked: tells whether there were more.
    const response = await request(target, urlFor(target, '/studies', studyQidoParams(query, limit + 1)), {
      accept: DICOM_JSON,
      timeoutMs: DEFAULT_DICOMWEB_TIMEOUTS.requestMs,
      ...(signal ? { signal } : {}),
    });
    const studyRecords = await readJsonArray(response, label);
    const truncated = studyRecords.length > limit;
    const studies = studyRecords.slice(0, limit).map((record) => toStudyResult(recordFromDicomJson(record)));
    let series: SeriesResult[] = [];
    if (query.studyInstanceUid) {
      const seriesResponse = await request(target, urlFor(target, `/studies/${encodeURIComponent(query.studyInstanceUid)}/series`, seriesQidoParams()), {
        accept: DICOM_JSON,
        timeoutMs: DEFAULT_DICOMWEB_TIMEOUTS.requestMs,
        ...(signal ? { signal } : {}),
      });
      series = (await readJsonArray(seriesResponse, label)).map((record) => {
        const result = toSeriesResult(recordFromDicomJson(record));
        return { ...result, studyInstanceUid: result.studyInstanceUid || query.studyInstanceUid! };
      });
    }
    return { studies: sortStudies(studies), series: sortSeries(series), truncated, failure: null };
  } catch (error) {
    return { studies: [], series: [], truncated: false, failure: failureOf(error, target) };
  }
}

/** The outbox's delivery check: does the PACS know this SOP Instance UID? */
export async function dicomwebHasInstance(
  target: DicomwebTarget,
  instance: Pick<InstanceInfo, 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'>,
): Promise<{ found: boolean; failure: PacsFailure | null }> {
  const label = describeDicomweb(target);
  const path = instance.studyInstanceUid
    ? `/studies/${encodeURIComponent(instance.studyInstanceUid)}/instances`
    : '/instances';
  try {
    const response = await request(target, urlFor(target, path, new URLSearchParams({ SOPInstanceUID: instance.sopInstanceUid })), {
      accept: DICOM_JSON,
      timeoutMs: DEFAULT_DICOMWEB_TIMEOUTS.requestMs,
    });
    const records = await readJsonArray(response, label);
    const found = records.some((record) => recordFromDicomJson(record).text('SOPInstanceUID') === instance.sopInstanceUid);
    return { found, failure: null };
  } catch (error) {
    const failure = failureOf(error, target);
    // A study the server has never seen may answer 404 on its /instances resource.
    if (failure.httpStatus === 404 && instance.studyInstanceUid) return { found: false, failure: null };
    return { found: false, failure };
  }
}

export interface WadoRetrieveOptions {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  signal?: AbortSignal;
  timeouts?: Partial<DicomwebTimeouts>;
  onStored?: (instance: StoredInstance) => void;
  /** A part our store refused: dropped, and the answer read on. */
  onSkipped?: (skipped: SkippedInstance) => void;
  onBytes?: (bytes: number) => void;
}

export interface WadoRetrieveResult {
  received: number;
  /** Parts refused as instances (not DICOM, malformed, past a limit), each with its reason. */
  skipped: SkippedInstances;
  cancelled: boolean;
  /** What ended the answer early: the connection, the server or the multipart framing, never one instance. */
  failure: PacsFailure | null;
}

/** Expected instance count from QIDO, for progress; null when the server does not say. */
export async function dicomwebInstanceCount(target: DicomwebTarget, studyInstanceUid: string, seriesInstanceUid?: string): Promise<number | null> {
  try {
    const path = seriesInstanceUid ? `/studies/${encodeURIComponent(studyInstanceUid)}/series` : '/studies';
    const params = seriesInstanceUid
      ? new URLSearchParams({ SeriesInstanceUID: seriesInstanceUid, includefield: '00201209' })
      : new URLSearchParams({ StudyInstanceUID: studyInstanceUid, includefield: '00201208' });
    const response = await request(target, urlFor(target, path, params), { accept: DICOM_JSON, timeoutMs: DEFAULT_DICOMWEB_TIMEOUTS.requestMs });
    const records = await readJsonArray(response, describeDicomweb(target));
    const first = records[0];
    if (!first) return null;
    const record = recordFromDicomJson(first);
    return record.number(seriesInstanceUid ? 'NumberOfSeriesRelatedInstances' : 'NumberOfStudyRelatedInstances');
  } catch {
    return null;
  }
}

/**
 * WADO-RS study or series, every instance as stored (transfer-syntax=*), each part streamed
 * into the store. A part the store refuses is skipped with its reason, as a C-GET's failed
 * sub-operation would be; the connection, the framing, a timeout or a cancel end the retrieve.
 */
export async function dicomwebRetrieve(target: DicomwebTarget, store: InstanceStore, options: WadoRetrieveOptions): Promise<WadoRetrieveResult> {
  const label = describeDicomweb(target);
  const idleMs = options.timeouts?.idleMs ?? DEFAULT_DICOMWEB_TIMEOUTS.idleMs;
  const path = `/studies/${encodeURIComponent(options.studyInstanceUid)}${options.seriesInstanceUid ? `/series/${encodeURIComponent(options.seriesInstanceUid)}` : ''}`;
  const idle = new AbortController();
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(), idleMs);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  let received = 0;
  let position = 0;
  const skipped = new SkippedList();
  let current: ReturnType<InstanceStore['beginPart10']> | undefined;
  touch();
  try {
    let response: Response;
    try {
      response = await request(target, urlFor(target, path), {
        accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
        signal,
      });
    } catch (error) {
      // Servers that do not know transfer-syntax=* answer 400 or 406: ask for their default instead.
      const status = error instanceof PacsError ? error.failure.httpStatus : undefined;
      if (status !== 400 && status !== 406) throw error;
      response = await request(target, urlFor(target, path), { accept: 'multipart/related; type="application/dicom"', signal });
    }
    const contentType = parseContentType(response.headers.get('content-type') ?? '');
    if (contentType.mediaType !== 'multipart/related' || !response.body) {
      throw new PacsError(pacsFailure('protocol', `${label} answered WADO-RS with ${contentType.mediaType || 'no content type'}, not multipart/related.`));
    }
    const body = response.body;
    const chunks = (async function* () {
      for await (const chunk of body) {
        touch();
        options.onBytes?.(chunk.byteLength);
        yield chunk;
      }
    })();
    await readMultipart(chunks, contentType.params.boundary ?? '', (headers) => {
      const part = ++position;
      const partType = parseContentType(headers['content-type'] ?? 'application/dicom').mediaType;
      if (partType !== 'application/dicom') {
        // Bulk data or rendered parts are not instances: read past them.
        return { write: () => {}, end: () => {} };
      }
      const incoming = store.beginPart10();
      current = incoming;
      return {
        write: async (chunk) => {
          if (!incoming.stream.write(chunk)) await once(incoming.stream, 'drain');
        },
        end: async () => {
          current = undefined;
          let stored: StoredInstance;
          try {
            stored = await incoming.finish();
          } catch (error) {
            if (!(error instanceof InstanceRefusedError)) throw error;
            // Recorded first: an optional call would skip evaluating its argument.
            const entry = skipped.add({ sopInstanceUid: error.sopInstanceUid, position: part, reason: error.message });
            options.onSkipped?.(entry);
            return;
          }
          received++;
          options.onStored?.(stored);
        },
      };
    });
    return { received, skipped: skipped.report(), cancelled: false, failure: null };
  } catch (error) {
    await current?.discard();
    const ended = (failure: PacsFailure | null, cancelled = false): WadoRetrieveResult => ({ received, skipped: skipped.report(), cancelled, failure });
    if (options.signal?.aborted) return ended(null, true);
    if (idle.signal.aborted) return ended(pacsFailure('timeout', `${label} stopped sending for ${Math.round(idleMs / 1000)} s in the middle of the WADO-RS answer.`));
    if (error instanceof PacsError) return ended(error.failure);
    const failure = socketFailure(error, label);
    return ended(failure.code === 'protocol' ? pacsFailure('protocol', `WADO-RS from ${label}: ${error instanceof Error ? error.message : String(error)}`) : failure);
  } finally {
    clearTimeout(idleTimer);
  }
}

export interface StowItem {
  path: string;
  info: Pick<InstanceInfo, 'sopInstanceUid' | 'sopClassUid'>;
}

const FAILED_SOP_SEQUENCE = '00081198';
const REFERENCED_SOP_SEQUENCE = '00081199';
const REFERENCED_SOP_INSTANCE_UID = '00081155';
const FAILURE_REASON = '00081197';

type DicomJson = Record<string, { vr?: string; Value?: unknown[] }>;

/** STOW-RS of several files in one request; one outcome per file, in order. */
export async function dicomwebStore(target: DicomwebTarget, items: StowItem[], timeoutMs?: number): Promise<StoreOutcome[]> {
  const label = describeDicomweb(target);
  let bodies: Uint8Array[];
  try {
    bodies = await Promise.all(items.map((item) => readFile(item.path)));
  } catch (error) {
    const failure = pacsFailure('unreadable', `A file to send could not be read: ${error instanceof Error ? error.message : String(error)}`);
    return items.map(() => ({ delivered: false, failure, uncertain: false }));
  }
  const boundary = newBoundary();
  const body = encodeMultipart(bodies.map((bytes) => ({ contentType: 'application/dicom', body: bytes })), boundary);
  // Generous: the slowest link we expect moves 1 MB/s.
  const budget = timeoutMs ?? DEFAULT_DICOMWEB_TIMEOUTS.requestMs + Math.ceil(body.length / 1_000_000) * 1000;
  let response: Response;
  try {
    response = await request(target, urlFor(target, '/studies'), {
      method: 'POST',
      accept: DICOM_JSON,
      contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`,
      body,
      timeoutMs: budget,
    });
  } catch (error) {
    const failure = failureOf(error, target);
    // Refused or unresolvable: nothing left this machine. A 4xx is an answer about the whole request.
    // Anything else (reset, timeout, 5xx) may have come after the PACS stored some of it.
    const uncertain = !(failure.code === 'refused' || failure.code === 'unreachable' || (failure.code === 'http-status' && (failure.httpStatus ?? 0) < 500));
    return items.map(() => ({ delivered: false, failure, uncertain }));
  }
  let answer: DicomJson = {};
  try {
    const text = await response.text();
    if (text.trim() !== '') {
      const parsed = JSON.parse(text) as unknown;
      answer = (Array.isArray(parsed) ? parsed[0] : parsed) as DicomJson;
    }
  } catch {
    // An unreadable answer leaves every item uncertain; the delivery check settles them.
  }
  const referenced = new Set(sequenceUids(answer, REFERENCED_SOP_SEQUENCE).map((entry) => entry.uid));
  const failed = new Map(sequenceUids(answer, FAILED_SOP_SEQUENCE).map((entry) => [entry.uid, entry.reason] as const));
  return items.map((item) => {
    const uid = item.info.sopInstanceUid;
    if (referenced.has(uid)) return { delivered: true, status: 0 };
    if (failed.has(uid)) {
      const reason = failed.get(uid);
      return {
        delivered: false,
        failure: pacsFailure('dimse-status', `${label} refused ${uid} (STOW-RS failure reason ${reason === undefined ? 'not given' : `0x${reason.toString(16).toUpperCase().padStart(4, '0')}`}).`, reason === undefined ? {} : { dimseStatus: reason }),
        uncertain: false,
      };
    }
    return {
      delivered: false,
      failure: pacsFailure('protocol', `${label} answered STOW-RS without saying whether it stored ${uid}.`),
      uncertain: true,
    };
  });
}

function sequenceUids(answer: DicomJson, tag: string): { uid: string; reason: number | undefined }[] {
  const items = answer[tag]?.Value ?? [];
  return items.flatMap((item) => {
    const record = item as DicomJson;
    const uid = record[REFERENCED_SOP_INSTANCE_UID]?.Value?.[0];
    const reason = record[FAILURE_REASON]?.Value?.[0];
    return typeof uid === 'string' ? [{ uid, reason: typeof reason === 'number' ? reason : undefined }] : [];
  });
}
