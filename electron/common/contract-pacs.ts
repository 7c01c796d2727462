// The PACS part of the renderer↔host contract: nodes, query, retrieve, send through
// the outbox, and the storage listener. Same shape as `calls`/`events` in contract.ts
// (method → { params, result }), so the lead merges them with a spread. No Node imports:
// the renderer bundles this file.
import { z } from 'zod';
import { SegFormatSchema } from './contract-seg.ts';
import { ImportResult } from './dicom-model.ts';

const JobId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'job ids are letters, digits and _.:-');
const AbsolutePath = z.string().min(1).max(4096);
const Uid = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[0-9]+(\.[0-9]+)*$/, 'a DICOM UID is digits separated by dots');

/** PS3.5 AE: 1–16 characters of the default repertoire, no backslash, not only spaces. */
export const AeTitle = z
  .string()
  .trim()
  .min(1, 'an AE title cannot be empty')
  .max(16, 'an AE title has at most 16 characters')
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'an AE title is printable ASCII without a backslash');

/** Names are what the CLI accepts as a node reference: no ':' or '/', so they never look like URLs. */
export const NodeName = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, 'a node name is letters, digits, space and _.- (starting with a letter or digit)');

const HostName = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]+|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)$/, 'a host is a name, an IPv4 or an IPv6 address');

const Port = z.number().int().min(1).max(65535);

export const DEFAULT_CALLING_AET = 'MEDREASONER';

export const DimseNode = z
  .object({
    type: z.literal('dimse'),
    name: NodeName,
    /** The PACS's AE title. */
    calledAet: AeTitle,
    host: HostName,
    port: Port,
    /** Ours, as the PACS knows us (it must be registered there for C-FIND, C-GET and C-MOVE). */
    callingAet: AeTitle.default(DEFAULT_CALLING_AET),
    tls: z.boolean().default(false),
    /** C-GET needs nothing from us; C-MOVE needs the storage listener, registered at the PACS under callingAet. */
    retrieveMethod: z.enum(['c-get', 'c-move']).default('c-get'),
    /** How a SEG is written for this receiver (absent: DEFAULT_SEG_FORMAT, binary): labelmap-rle for one known to read Label Map SEGs, as OHIF does. */
    segFormat: SegFormatSchema.optional(),
  })
  .strict();
export type DimseNode = z.infer<typeof DimseNode>;

const Secret = z.string().min(1).max(8192);
const HttpUrl = z
  .string()
  .trim()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'a DICOMweb base URL is http(s)://host[:port]/path, without user:password (set auth instead)');

export const DicomwebAuth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z.object({ type: z.literal('basic'), username: z.string().min(1).max(256), password: Secret }).strict(),
  z.object({ type: z.literal('bearer'), token: Secret }).strict(),
]);
export type DicomwebAuth = z.infer<typeof DicomwebAuth>;

export const DicomwebNode = z
  .object({
    type: z.literal('dicomweb'),
    name: NodeName,
    /** e.g. http://pacs:8042/dicom-web — QIDO, WADO and STOW paths are appended to it. */
    baseUrl: HttpUrl,
    auth: DicomwebAuth.default({ type: 'none' }),
    segFormat: SegFormatSchema.optional(),
  })
  .strict();
export type DicomwebNode = z.infer<typeof DicomwebNode>;

/** A node as stored in <dataDir>/pacs-nodes.json, secrets included. Never sent to the renderer. */
export const PacsNode = z.discriminatedUnion('type', [DimseNode, DicomwebNode]);
export type PacsNode = z.infer<typeof PacsNode>;

/** What the renderer sees: a secret is replaced by whether one is stored. */
export const DicomwebAuthView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('basic'), username: z.string(), passwordSet: z.boolean() }),
  z.object({ type: z.literal('bearer'), tokenSet: z.boolean() }),
]);
export const PacsNodeView = z.discriminatedUnion('type', [
  DimseNode,
  DicomwebNode.extend({ auth: DicomwebAuthView }),
]);
export type PacsNodeView = z.infer<typeof PacsNodeView>;

/** What the renderer sends when saving: an omitted secret keeps the one already stored under that name. */
export const DicomwebAuthInput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z.object({ type: z.literal('basic'), username: z.string().min(1).max(256), password: Secret.optional() }).strict(),
  z.object({ type: z.literal('bearer'), token: Secret.optional() }).strict(),
]);
export const PacsNodeInput = z.discriminatedUnion('type', [
  DimseNode,
  DicomwebNode.extend({ auth: DicomwebAuthInput.default({ type: 'none' }) }).strict(),
]);
export type PacsNodeInput = z.input<typeof PacsNodeInput>;

/** A saved node by name, or one given in full (test a node before saving it). */
export const NodeRef = z.union([
  z.object({ name: NodeName }).strict(),
  z.object({ node: PacsNodeInput }).strict(),
]);
export type NodeRef = z.input<typeof NodeRef>;

/** Where the listener binds when the user has not chosen: this machine only. */
export const DEFAULT_LISTENER_BIND_ADDRESS = '127.0.0.1';

/** An IP literal of this machine (not a host name: what the socket binds must be unambiguous). */
export const BindAddress = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .pipe(z.union([z.ipv4(), z.ipv6()], { error: 'a bind address is an IPv4 or IPv6 address (127.0.0.1: this machine only; 0.0.0.0: every interface)' }));

const GIB = 1024 * 1024 * 1024;

/** What one peer, and everyone together, may cost the listener; past a limit it refuses and logs why. */
export const LISTENER_LIMIT_DEFAULTS = {
  /** Open connections at once; the next caller gets A-ASSOCIATE-RJ (transient, local limit exceeded). */
  maxConnections: 8,
  /** Instances and bytes one association may store; further C-STOREs are refused (0xA700). */
  maxAssociationInstances: 20_000,
  maxAssociationBytes: 16 * GIB,
  /** Instances and bytes the listener stores from the time it starts until it stops. */
  maxTotalInstances: 200_000,
  maxTotalBytes: 128 * GIB,
} as const;

const Count = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const limitFields = {
  maxConnections: z.number().int().min(1).max(1024),
  maxAssociationInstances: Count,
  maxAssociationBytes: Count,
  maxTotalInstances: Count,
  maxTotalBytes: Count,
};
export const ListenerLimits = z
  .object({
    maxConnections: limitFields.maxConnections.default(LISTENER_LIMIT_DEFAULTS.maxConnections),
    maxAssociationInstances: limitFields.maxAssociationInstances.default(LISTENER_LIMIT_DEFAULTS.maxAssociationInstances),
    maxAssociationBytes: limitFields.maxAssociationBytes.default(LISTENER_LIMIT_DEFAULTS.maxAssociationBytes),
    maxTotalInstances: limitFields.maxTotalInstances.default(LISTENER_LIMIT_DEFAULTS.maxTotalInstances),
    maxTotalBytes: limitFields.maxTotalBytes.default(LISTENER_LIMIT_DEFAULTS.maxTotalBytes),
  })
  .strict();
export type ListenerLimits = z.infer<typeof ListenerLimits>;
/** A change to some limits (listener.start, the CLI). */
export const ListenerLimitsChange = z
  .object({
    maxConnections: limitFields.maxConnections.optional(),
    maxAssociationInstances: limitFields.maxAssociationInstances.optional(),
    maxAssociationBytes: limitFields.maxAssociationBytes.optional(),
    maxTotalInstances: limitFields.maxTotalInstances.optional(),
    maxTotalBytes: limitFields.maxTotalBytes.optional(),
  })
  .strict();
export type ListenerLimitsChange = z.infer<typeof ListenerLimitsChange>;

export const ListenerSettings = z
  .object({
    aeTitle: AeTitle.default(DEFAULT_CALLING_AET),
    port: Port.default(11112),
    /** 127.0.0.1 unless the user sets another address (0.0.0.0 so that a PACS on the network can reach us). */
    bindAddress: BindAddress.default(DEFAULT_LISTENER_BIND_ADDRESS),
    /** Start with the app. Off by default: a workstation does not listen unless asked. */
    enabled: z.boolean().default(false),
    /**
     * Off: a caller is accepted only when its calling AE title and its source address both
     * match one configured DIMSE node (the node's host resolved to addresses).
     */
    acceptUnknownCallers: z.boolean().default(false),
    limits: ListenerLimits.prefault({}),
  })
  .strict();
export type ListenerSettings = z.infer<typeof ListenerSettings>;

/** Why a PACS operation failed, precisely enough to act on. */
export const PacsFailureCode = z.enum([
  'refused', // nothing listens at host:port
  'timeout', // no answer in time (connect, association or response)
  'unreachable', // DNS failure, no route to host
  'association-rejected', // the PACS refused our AE titles or the association
  'association-aborted', // A-ABORT from the PACS
  'connection-lost', // the connection closed in the middle of an exchange
  'tls', // TLS handshake or certificate failure
  'http-status', // DICOMweb answered with an error status
  'dimse-status', // a DIMSE failure status (C-FIND, C-GET, C-STORE…)
  'not-accepted', // the PACS does not accept this SOP class or transfer syntax
  'protocol', // an answer we could not understand
  'cancelled',
  'config', // the node is missing or invalid
  'unreadable', // the local file to send cannot be read
]);
export type PacsFailureCode = z.infer<typeof PacsFailureCode>;

export const PacsFailure = z.object({
  code: PacsFailureCode,
  message: z.string(),
  httpStatus: z.number().int().optional(),
  dimseStatus: z.number().int().optional(),
  /** For association-rejected: permanent or transient, and the reason the PACS gave. */
  rejection: z.object({ result: z.string(), source: z.string(), reason: z.string() }).optional(),
});
export type PacsFailure = z.infer<typeof PacsFailure>;

export const EchoResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), elapsedMs: z.number(), message: z.string() }),
  z.object({ ok: z.literal(false), elapsedMs: z.number(), failure: PacsFailure }),
]);
export type EchoResult = z.infer<typeof EchoResult>;

/** DICOM date or range: YYYYMMDD, YYYYMMDD-YYYYMMDD, -YYYYMMDD, YYYYMMDD-. */
export const DicomDateRange = z
  .string()
  .regex(/^(\d{8}|\d{8}-|-\d{8}|\d{8}-\d{8})$/, 'a date is YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end may be open)');

const QueryText = z.string().trim().min(1).max(64);
export const FindQuery = z
  .object({
    /** Wildcards * and ? as in DICOM matching. */
    patientName: QueryText.optional(),
    patientId: QueryText.optional(),
    studyDate: DicomDateRange.optional(),
    modality: z.string().trim().min(1).max(16).regex(/^[A-Z0-9_]+$/, 'a modality is upper-case letters and digits (CT, MR, SEG…)').optional(),
    accessionNumber: QueryText.optional(),
    studyInstanceUid: Uid.optional(),
  })
  .strict();
export type FindQuery = z.infer<typeof FindQuery>;

export const StudyResult = z.object({
  studyInstanceUid: z.string(),
  patientName: z.string(),
  patientId: z.string(),
  patientBirthDate: z.string(),
  patientSex: z.string(),
  studyDate: z.string(),
  studyTime: z.string(),
  studyDescription: z.string(),
  accessionNumber: z.string(),
  modalities: z.array(z.string()),
  seriesCount: z.number().int().nullable(),
  instanceCount: z.number().int().nullable(),
});
export type StudyResult = z.infer<typeof StudyResult>;

export const SeriesResult = z.object({
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  modality: z.string(),
  seriesNumber: z.number().nullable(),
  seriesDescription: z.string(),
  instanceCount: z.number().int().nullable(),
});
export type SeriesResult = z.infer<typeof SeriesResult>;

export const FindResult = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    studies: z.array(StudyResult),
    /** Filled when the query names a study (studyInstanceUid): that study's series. */
    series: z.array(SeriesResult),
    /** More matched than the limit; narrow the query. */
    truncated: z.boolean(),
  }),
  z.object({ ok: z.literal(false), failure: PacsFailure }),
]);
export type FindResult = z.infer<typeof FindResult>;

export const RetrieveMethod = z.enum(['c-get', 'c-move', 'wado-rs']);
export type RetrieveMethod = z.infer<typeof RetrieveMethod>;

/** The most skipped instances a retrieve lists with their reasons; the rest are counted. */
export const MAX_SKIPPED_LISTED = 100;

/** An instance that arrived but that this workstation refused to store: discarded, the retrieve went on. */
export const SkippedInstance = z.object({
  /** Its SOP Instance UID, when it could be read (a part that is not DICOM has none). */
  sopInstanceUid: Uid.nullable(),
  /** Where it came, from 1: its part in the WADO-RS answer, or its C-STORE among those of the C-GET or C-MOVE. */
  position: z.number().int().positive(),
  /** Why it was refused (not DICOM, malformed, past a limit…). */
  reason: z.string().max(1000),
});
export type SkippedInstance = z.infer<typeof SkippedInstance>;

export const SkippedInstances = z.object({
  count: z.number().int().nonnegative(),
  /** The first MAX_SKIPPED_LISTED of them, in the order they came. */
  instances: z.array(SkippedInstance).max(MAX_SKIPPED_LISTED),
});
export type SkippedInstances = z.infer<typeof SkippedInstances>;

export const RetrieveResult = z.object({
  jobId: z.string(),
  method: RetrieveMethod,
  cancelled: z.boolean(),
  /** Instances written to the local store by this retrieve. */
  received: z.number().int().nonnegative(),
  /**
   * Sub-operations the PACS reported as failed (C-GET, C-MOVE), not counting those that
   * failed because this workstation refused the instance: those are in `skipped`.
   */
  failed: z.number().int().nonnegative(),
  /** Instances that arrived and were refused here, each with its reason; a retrieve with some is not a failure. */
  skipped: SkippedInstances,
  /** The series folders written (<dataDir>/store/<study>/<series>). */
  folders: z.array(z.string()),
  /** The import of what arrived; null when nothing arrived or the retrieve was cancelled. */
  import: ImportResult.nullable(),
  /** Why the retrieve stopped early, if it did (files received before it are kept and imported). */
  failure: PacsFailure.nullable(),
  elapsedMs: z.number(),
});
export type RetrieveResult = z.infer<typeof RetrieveResult>;

export const OutboxState = z.enum(['queued', 'sending', 'delivered', 'failed']);
export type OutboxState = z.infer<typeof OutboxState>;

export const OutboxItemView = z.object({
  id: z.string(),
  batchId: z.string(),
  /** The saved node's name, or the address of an ad-hoc node. */
  node: z.string(),
  sopInstanceUid: z.string(),
  sopClassUid: z.string(),
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  modality: z.string(),
  sourcePath: z.string(),
  bytes: z.number().int().nonnegative(),
  state: OutboxState,
  attempts: z.number().int().nonnegative(),
  createdAt: z.string(),
  lastAttemptAt: z.string().nullable(),
  /** When the next try is due (queued items after a failure). */
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  /** The reason of the last failure: why a queued item waits, or why a failed item stopped. */
  lastFailure: PacsFailure.nullable(),
  /** The last attempt may have reached the PACS: the next one asks the PACS for the SOP Instance UID first. */
  uncertain: z.boolean(),
  /** How delivery was confirmed: the PACS's store response, or finding the instance at the PACS. */
  confirmedBy: z.enum(['store-response', 'pacs-query']).nullable(),
});
export type OutboxItemView = z.infer<typeof OutboxItemView>;

export const OutboxListing = z.object({
  items: z.array(OutboxItemView),
  /** Whether this process delivers the outbox; false when another MedReasoner process does (pid given). */
  delivering: z.boolean(),
  delivererPid: z.number().int().nullable(),
});
export type OutboxListing = z.infer<typeof OutboxListing>;

export const ListenerStatus = z.object({
  running: z.boolean(),
  settings: ListenerSettings,
  /** Instances stored since the listener started. */
  received: z.number().int().nonnegative(),
  lastReceivedAt: z.string().nullable(),
  /** Why it is not running, when starting failed (port in use…). */
  error: z.string().nullable(),
  /** Associations and instances refused since the listener started (unknown caller, limits, bad PDUs). */
  refused: z.number().int().nonnegative(),
  /** Received instances kept beside a stored one with the same SOP Instance UID but other bytes (all time). */
  conflicts: z.number().int().nonnegative(),
});
export type ListenerStatus = z.infer<typeof ListenerStatus>;

/**
 * An instance whose SOP Instance UID is stored already with other bytes: kept beside the
 * original (never over it), recorded, and reported.
 */
export const StoreConflict = z.object({
  at: z.string(),
  sopInstanceUid: z.string(),
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  /** The stored instance, untouched (the one the index keeps). */
  originalPath: z.string(),
  /** Where the differing copy was kept. */
  conflictPath: z.string(),
  /** The caller's AE title (listener), or the node retrieved from. */
  source: z.string(),
  /** What differs: the data set bytes, and whether the transfer syntax differs too. */
  reason: z.string(),
});
export type StoreConflict = z.infer<typeof StoreConflict>;

const NodesListing = z.object({ nodes: z.array(PacsNodeView), listener: ListenerSettings });

/** Calls: method name → params and result schemas (merged into `calls` by the lead). */
export const pacsCalls = {
  'pacs.nodes.list': { params: z.object({}).strict(), result: NodesListing },
  /** Adds or replaces the node of that name; originalName renames. */
  'pacs.nodes.save': {
    params: z.object({ node: PacsNodeInput, originalName: NodeName.optional() }).strict(),
    result: NodesListing,
  },
  'pacs.nodes.remove': { params: z.object({ name: NodeName }).strict(), result: NodesListing },
  /** C-ECHO (DIMSE) or a one-result QIDO (DICOMweb). */
  'pacs.nodes.test': { params: z.object({ node: NodeRef }).strict(), result: EchoResult },
  /** Study level; with query.studyInstanceUid the study's series as well. */
  'pacs.find': {
    params: z.object({ node: NodeRef, query: FindQuery, limit: z.number().int().min(1).max(5000).default(500) }).strict(),
    result: FindResult,
  },
  /** Into <dataDir>/store, then imported; progress as pacs.retrieveProgress, cancel with pacs.cancelRetrieve. */
  'pacs.retrieve': {
    params: z
      .object({ jobId: JobId, node: NodeRef, studyInstanceUid: Uid, seriesInstanceUid: Uid.optional() })
      .strict(),
    result: RetrieveResult,
  },
  'pacs.cancelRetrieve': {
    params: z.object({ jobId: JobId }).strict(),
    result: z.object({ cancelled: z.boolean() }),
  },
  /** Queues files (or indexed series) in the outbox; delivery happens in the background. */
  'pacs.send': {
    params: z
      .object({
        node: NodeRef,
        paths: z.array(AbsolutePath).max(1000).optional(),
        seriesKeys: z.array(z.string().min(1).max(256)).max(100).optional(),
      })
      .strict()
      .refine((p) => (p.paths?.length ?? 0) + (p.seriesKeys?.length ?? 0) > 0, 'give paths or seriesKeys'),
    result: z.object({
      batchId: z.string(),
      queued: z.array(OutboxItemView),
      /** Files not queued and why (not DICOM Part 10, unreadable…). */
      skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
    }),
  },
  'outbox.list': { params: z.object({}).strict(), result: OutboxListing },
  /** Tries every queued item now (waiting ones included) and answers when that pass is done. */
  'outbox.flush': { params: z.object({}).strict(), result: OutboxListing },
  /** Failed items (all, or those named) go back to the queue. */
  'outbox.retry': { params: z.object({ ids: z.array(z.string()).max(10000).optional() }).strict(), result: OutboxListing },
  /** Drops items (a delivered item's record, or an item the user gives up on). */
  'outbox.remove': { params: z.object({ ids: z.array(z.string()).min(1).max(10000) }).strict(), result: OutboxListing },
  'listener.status': { params: z.object({}).strict(), result: ListenerStatus },
  /** Starts the C-STORE SCP; the given settings are saved (enabled: true). */
  'listener.start': {
    params: z
      .object({ aeTitle: AeTitle.optional(), port: Port.optional(), bindAddress: BindAddress.optional(), limits: ListenerLimitsChange.optional() })
      .strict(),
    result: ListenerStatus,
  },
  'listener.stop': { params: z.object({}).strict(), result: ListenerStatus },
  /** Received instances that differ from the stored one with the same SOP Instance UID, newest last. */
  'listener.conflicts': { params: z.object({}).strict(), result: z.object({ conflicts: z.array(StoreConflict) }) },
} as const;

export type PacsCallName = keyof typeof pacsCalls;
export type PacsCallParams<M extends PacsCallName> = z.input<(typeof pacsCalls)[M]['params']>;
export type PacsCallResult<M extends PacsCallName> = z.infer<(typeof pacsCalls)[M]['result']>;

export const RetrieveProgress = z.object({
  jobId: JobId,
  phase: z.enum(['connecting', 'receiving', 'importing', 'done']),
  received: z.number().int().nonnegative(),
  /** As in RetrieveResult: failed at the PACS (other than what we refused)… */
  failed: z.number().int().nonnegative(),
  /** …and refused here, so far. */
  skipped: z.number().int().nonnegative(),
  /** Expected instances, when the PACS said (C-GET/C-MOVE remaining counts, or a QIDO count). */
  total: z.number().int().nonnegative().nullable(),
  bytes: z.number().int().nonnegative(),
});
export type RetrieveProgress = z.infer<typeof RetrieveProgress>;

/** Events: host → renderer (merged into `events` by the lead). */
export const pacsEvents = {
  'pacs.retrieveProgress': RetrieveProgress,
  /** Items whose state changed (queued, sending, delivered, failed…). */
  'outbox.changed': z.object({ items: z.array(OutboxItemView) }),
  'listener.changed': ListenerStatus,
  /** An instance a PACS or modality pushed to the listener (not those of our own C-MOVE). */
  'listener.received': z.object({
    path: z.string(),
    callingAet: z.string(),
    sopInstanceUid: z.string(),
    studyInstanceUid: z.string(),
    seriesInstanceUid: z.string(),
  }),
  /** A received instance was kept as a conflict beside a stored one (see listener.conflicts). */
  'listener.conflict': StoreConflict,
} as const;

export type PacsEventName = keyof typeof pacsEvents;
export type PacsEventPayload<E extends PacsEventName> = z.infer<(typeof pacsEvents)[E]>;
