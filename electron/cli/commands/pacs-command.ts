// `medreasoner pacs echo|find|get|send|node|listen …`: the PACS from scripts and batch jobs.
// A node is a saved name, dimse://CALLED_AET@host:port (our AE from --aet) or a DICOMweb
// base URL. Exit 0 when the command ran, 1 when it failed, 2 on usage errors.
import { defaultDataDir } from '../../host/app-paths.ts';
import { parseArgs, positiveSeconds, UsageError, type ParsedArgs } from '../../host/pacs/cli-args.ts';
import { NodeReferenceError, parseNodeReference, type NodeReference } from '../../host/pacs/node-ref.ts';
import { PacsError } from '../../host/pacs/pacs-failure.ts';
import { formatFailure, formatOutbox, formatSeries, formatSkipped, formatStudies, summarizeOutbox } from '../../host/pacs/pacs-format.ts';
import { withPacsService as withService, type PacsService } from '../../host/pacs/pacs-service.ts';
import { describePacsNode, SettingsError, viewOfNode } from '../../host/pacs/pacs-settings.ts';
import { normalizeDateRange } from '../../host/pacs/query.ts';
import { BindAddress, FindQuery, type DicomwebAuth, type PacsNode, type PacsNodeInput } from '../../common/contract-pacs.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIO } from '../cli-io.ts';

const USAGE = `Usage: medreasoner pacs <command> …

  echo <node> [--aet AET]                  Test the connection (C-ECHO, or a QIDO-RS query)
  find <node> [--patient NAME] [--patient-id ID] [--modality MOD] [--date RANGE]
              [--accession NUMBER] [--study UID] [--limit N] [--json] [--aet AET]
                                           Query studies (and with --study, that study's series).
                                           NAME and ID take DICOM wildcards (* ?); RANGE is
                                           YYYYMMDD, YYYYMMDD-YYYYMMDD, -YYYYMMDD or YYYYMMDD-
  get <node> --study UID [--series UID] [--to DIR] [--move] [--aet AET]
                                           Retrieve a study or series (C-GET, C-MOVE with --move
                                           via the storage listener, or WADO-RS) into DIR or the
                                           app's store. An instance refused here (not DICOM,
                                           malformed, past a limit) is skipped with its reason;
                                           exit 1 when any instance did not arrive
  send <node> <file|folder>… [--wait SECONDS] [--aet AET]
                                           Queue in the outbox, then wait up to SECONDS (default 10)
                                           for delivery; exit 0 once queued, saying what is pending
  node list [--json]
  node add <name> <address> [--aet AET] [--move] [--user NAME --password-env VAR | --token-env VAR]
  node remove <name>
  listen [--port N] [--aet AET] [--bind ADDRESS] [--max-connections N]
                                           Run the storage listener (C-STORE SCP) until interrupted.
                                           ADDRESS: an IP address of this machine (default
                                           127.0.0.1, this machine only; 0.0.0.0 for every
                                           interface). Callers must match a saved DIMSE node by
                                           AE title and address
  conflicts [--json]                       Received instances that differ from a stored one with
                                           the same SOP Instance UID (kept beside it, never over it)

<node>: a saved node's name, dimse://CALLED_AET@host:port (dimse+tls:// for DICOM TLS;
our calling AE title from --aet, default MEDREASONER), or a DICOMweb base URL.`;

export interface PacsCommandOptions {
  /** The app's data folder (settings, outbox, store); default: the per-OS folder or $MEDREASONER_HOME. */
  dataDir?: string;
  /** listen: resolves to stop (tests); default: SIGINT or SIGTERM. */
  stopSignal?: Promise<void>;
}

export async function runPacsCommand(args: string[], io: CliIO, options: PacsCommandOptions = {}): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    (sub === undefined ? io.err : io.out)(USAGE);
    return sub === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const dataDir = options.dataDir ?? defaultDataDir();
  try {
    switch (sub) {
      case 'echo':
        return await echo(rest, io, dataDir);
      case 'find':
        return await find(rest, io, dataDir);
      case 'get':
        return await get(rest, io, dataDir);
      case 'send':
        return await send(rest, io, dataDir);
      case 'node':
      case 'nodes':
        return await node(rest, io, dataDir);
      case 'listen':
        return await listen(rest, io, dataDir, options.stopSignal);
      case 'conflicts':
        return await conflicts(rest, io, dataDir);
      default:
        throw new UsageError(`unknown command "${sub}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof NodeReferenceError) {
      io.err(`medreasoner pacs: ${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof PacsError) {
      io.err(`medreasoner pacs ${sub}: ${formatFailure(error.failure)}`);
      return EXIT_FAILED;
    }
    if (error instanceof SettingsError) {
      io.err(`medreasoner pacs ${sub}: ${error.message}`);
      return EXIT_FAILED;
    }
    throw error;
  }
}

function nodeArgument(parsed: ParsedArgs, extra: { retrieveMethod?: 'c-get' | 'c-move' } = {}): NodeReference {
  const text = parsed.positionals[0];
  if (text === undefined) throw new UsageError('give a PACS node (a saved name, dimse://AET@host:port or an http(s) URL)');
  const aet = parsed.values.get('aet');
  return parseNodeReference(text, { ...(aet ? { callingAet: aet } : {}), ...extra });
}

/** A saved node with command-line overrides (--aet, --move) applied. */
async function resolveNode(service: PacsService, reference: NodeReference, parsed: ParsedArgs): Promise<PacsNode> {
  const node = await service.resolve(reference);
  if (node.type !== 'dimse' || reference.kind === 'inline') return node;
  const aet = parsed.values.get('aet');
  return { ...node, ...(aet ? { callingAet: aet } : {}), ...(parsed.flags.has('move') ? { retrieveMethod: 'c-move' as const } : {}) };
}

async function echo(args: string[], io: CliIO, dataDir: string): Promise<number> {
  const parsed = parseArgs(args, { values: ['aet'], flags: [] });
  if (parsed.flags.has('help')) return help(io);
  const reference = nodeArgument(parsed);
  if (parsed.positionals.length !== 1) throw new UsageError('echo takes one node');
  return withService(dataDir, async (service) => {
    const result = await service.test(await resolveNode(service, reference, parsed));
    if (result.ok) {
      io.out(result.message);
      return EXIT_OK;
    }
    io.err(`medreasoner pacs echo: ${formatFailure(result.failure)}`);
    return EXIT_FAILED;
  });
}

async function find(args: string[], io: CliIO, dataDir: string): Promise<number> {
  const parsed = parseArgs(args, { values: ['aet', 'patient', 'patient-id', 'modality', 'date', 'accession', 'study', 'limit'], flags: ['json'] });
  if (parsed.flags.has('help')) return help(io);
  const reference = nodeArgument(parsed);
  if (parsed.positionals.length !== 1) throw new UsageError('find takes one node (and options)');
  const date = parsed.values.get('date');
  const normalizedDate = date === undefined ? undefined : normalizeDateRange(date);
  if (normalizedDate === null) throw new UsageError(`--date "${date}" is not YYYYMMDD, YYYYMMDD-YYYYMMDD, -YYYYMMDD or YYYYMMDD-`);
  const query = FindQuery.safeParse({
    patientName: parsed.values.get('patient'),
    patientId: parsed.values.get('patient-id'),
    modality: parsed.values.get('modality')?.toUpperCase(),
    studyDate: normalizedDate,
    accessionNumber: parsed.values.get('accession'),
    studyInstanceUid: parsed.values.get('study'),
  });
  if (!query.success) throw new UsageError(query.error.issues.map((issue) => `--${String(issue.path[0] ?? '')}: ${issue.message}`).join('; '));
  const limitText = parsed.values.get('limit');
  const limit = limitText === undefined ? 500 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 5000) throw new UsageError('--limit takes a whole number from 1 to 5000');
  return withService(dataDir, async (service) => {
    const result = await service.find(await resolveNode(service, reference, parsed), query.data, limit);
    if (!result.ok) {
      io.err(`medreasoner pacs find: ${formatFailure(result.failure)}`);
      return EXIT_FAILED;
    }
    if (parsed.flags.has('json')) {
      io.out(`${JSON.stringify({ studies: result.studies, series: result.series, truncated: result.truncated }, null, 2)}\n`);
      return EXIT_OK;
    }
    io.out(formatStudies(result.studies));
    if (query.data.studyInstanceUid) io.out(`\n${formatSeries(result.series)}`);
    if (result.truncated) io.out(`\nMore than ${limit} studies matched: narrow the query (or raise --limit).`);
    return EXIT_OK;
  });
}

async function get(args: string[], io: CliIO, dataDir: string): Promise<number> {
  const parsed = parseArgs(args, { values: ['aet', 'study', 'series', 'to'], flags: ['move'] });
  if (parsed.flags.has('help')) return help(io);
  if (parsed.positionals.length === 0) nodeArgument(parsed);
  if (parsed.positionals.length !== 1) throw new UsageError('get takes one node (and --study)');
  const study = parsed.values.get('study');
  if (!study) throw new UsageError('get needs --study UID');
  const series = parsed.values.get('series');
  for (const [name, uid] of [['study', study], ['series', series]] as const) {
    if (uid !== undefined && !/^[0-9]+(\.[0-9]+)*$/.test(uid)) throw new UsageError(`--${name} "${uid}" is not a DICOM UID`);
  }
  const reference = nodeArgument(parsed, parsed.flags.has('move') ? { retrieveMethod: 'c-move' } : {});
  const to = parsed.values.get('to');
  return withService(dataDir, async (service) => {
    const node = await resolveNode(service, reference, parsed);
    const controller = new AbortController();
    const interrupt = () => controller.abort();
    process.once('SIGINT', interrupt);
    try {
      const result = await service.retrieve({
        jobId: `cli-${process.pid}`,
        node,
        studyInstanceUid: study,
        ...(series ? { seriesInstanceUid: series } : {}),
        ...(to ? { storeRoot: to } : {}),
        signal: controller.signal,
      });
      const where = result.folders.length > 0 ? `\n${result.folders.join('\n')}` : '';
      const missing = [result.failed > 0 && `${result.failed} failed at the PACS`, result.skipped.count > 0 && `${result.skipped.count} skipped`].filter(Boolean);
      io.out(`Retrieved ${result.received} instance${result.received === 1 ? '' : 's'} by ${result.method.toUpperCase()}${missing.length > 0 ? ` (${missing.join(', ')})` : ''} in ${(result.elapsedMs / 1000).toFixed(1)} s.${where}`);
      if (result.skipped.count > 0) io.out(formatSkipped(result.skipped, result.method));
      if (result.cancelled) {
        io.err('medreasoner pacs get: interrupted.');
        return EXIT_FAILED;
      }
      if (result.failure) {
        io.err(`medreasoner pacs get: ${formatFailure(result.failure)}`);
        return EXIT_FAILED;
      }
      if (result.received === 0 && result.skipped.count > 0) {
        io.err('medreasoner pacs get: every instance the PACS sent was refused here (see above).');
        return EXIT_FAILED;
      }
      if (result.received === 0) {
        io.err('medreasoner pacs get: the PACS sent nothing for this study/series (check the UIDs with find).');
        return EXIT_FAILED;
      }
      // Like a failed sub-operation: what arrived is kept, and a script learns that not all of it did.
      return result.failed > 0 || result.skipped.count > 0 ? EXIT_FAILED : EXIT_OK;
    } finally {
      process.off('SIGINT', interrupt);
    }
  });
}

async function send(args: string[], io: CliIO, dataDir: string): Promise<number> {
  const parsed = parseArgs(args, { values: ['aet', 'wait'], flags: [] });
  if (parsed.flags.has('help')) return help(io);
  if (parsed.positionals.length < 2) throw new UsageError('send takes a node and at least one file or folder');
  const waitSeconds = positiveSeconds(parsed.values.get('wait'), 'wait', 10);
  const reference = nodeArgument(parsed);
  const paths = parsed.positionals.slice(1);
  return withService(dataDir, async (service) => {
    let sendReference: NodeReference = reference;
    if (reference.kind === 'saved') await service.resolve(reference); // unknown names fail before anything is queued
    if (reference.kind === 'saved' && parsed.values.get('aet')) {
      const node = await resolveNode(service, reference, parsed);
      sendReference = { kind: 'inline', node, label: `${describePacsNode(node)} as ${parsed.values.get('aet')}` };
    }
    const result = await service.send(sendReference, paths);
    for (const skip of result.skipped) io.err(`skipped ${skip.path}: ${skip.reason}`);
    if (result.queued.length === 0) {
      io.err('medreasoner pacs send: nothing to send (no DICOM Part 10 file among the paths).');
      return EXIT_FAILED;
    }
    const fresh = result.queued.filter((item) => item.batchId === result.batchId).length;
    const already = result.queued.length - fresh;
    io.out(`Queued ${fresh} instance${fresh === 1 ? '' : 's'} for ${result.queued[0]!.node}${already ? ` (${already} already in the outbox)` : ''}.`);
    const items = await service.outbox.waitFor(
      result.queued.map((item) => item.id),
      waitSeconds * 1000,
    );
    io.out(`Outbox: ${summarizeOutbox(items)}.`);
    const open = items.filter((item) => item.state !== 'delivered');
    if (open.length > 0) io.out(formatOutbox(open));
    if (!service.outbox.delivering && open.some((item) => item.state !== 'failed')) {
      io.out('Another MedReasoner process delivers this outbox; the pending items go out from there.');
    } else if (open.some((item) => item.state === 'queued' || item.state === 'sending')) {
      io.out('Pending items stay in the outbox: they go out when the app runs, or with `medreasoner outbox flush`.');
    }
    return items.some((item) => item.state === 'failed') ? EXIT_FAILED : EXIT_OK;
  });
}

async function node(args: string[], io: CliIO, dataDir: string): Promise<number> {
  const [action, ...rest] = args;
  const parsed = parseArgs(rest, { values: ['aet', 'user', 'password-env', 'token-env'], flags: ['json', 'move'] });
  if (parsed.flags.has('help') || action === undefined) return help(io);
  return withService(dataDir, async (service) => {
    if (action === 'list') {
      const settings = await service.settings.load();
      const views = settings.nodes.map(viewOfNode);
      if (parsed.flags.has('json')) io.out(`${JSON.stringify({ nodes: views, listener: settings.listener }, null, 2)}\n`);
      else if (settings.nodes.length === 0) io.out('No PACS node is saved.');
      else io.out(settings.nodes.map(describePacsNode).join('\n'));
      return EXIT_OK;
    }
    if (action === 'remove') {
      if (parsed.positionals.length !== 1) throw new UsageError('node remove takes a name');
      await service.removeNode(parsed.positionals[0]!);
      io.out(`Removed ${parsed.positionals[0]}.`);
      return EXIT_OK;
    }
    if (action === 'add') {
      if (parsed.positionals.length !== 2) throw new UsageError('node add takes a name and an address');
      const [name, address] = parsed.positionals as [string, string];
      const reference = parseNodeReference(address, {
        ...(parsed.values.get('aet') ? { callingAet: parsed.values.get('aet')! } : {}),
        ...(parsed.flags.has('move') ? { retrieveMethod: 'c-move' as const } : {}),
      });
      if (reference.kind !== 'inline') throw new UsageError('node add takes an address: dimse://AET@host:port or an http(s) URL');
      const input: PacsNodeInput = reference.node.type === 'dicomweb' ? { ...reference.node, name, auth: authFromEnv(parsed) } : { ...reference.node, name };
      const settings = await service.saveNode(input);
      const saved = settings.nodes.find((entry) => entry.name === name);
      io.out(`Saved ${saved ? describePacsNode(saved) : name}.`);
      return EXIT_OK;
    }
    throw new UsageError(`unknown node action "${action}" (list, add, remove)`);
  });
}

/** Secrets come from environment variables, never from the command line (shell history, ps). */
function authFromEnv(parsed: ParsedArgs): DicomwebAuth {
  const user = parsed.values.get('user');
  const passwordVar = parsed.values.get('password-env');
  const tokenVar = parsed.values.get('token-env');
  if (tokenVar) {
    const token = process.env[tokenVar];
    if (!token) throw new UsageError(`--token-env ${tokenVar}: that environment variable is empty or not set`);
    return { type: 'bearer', token };
  }
  if (user || passwordVar) {
    if (!user || !passwordVar) throw new UsageError('basic authentication needs --user and --password-env');
    const password = process.env[passwordVar];
    if (!password) throw new UsageError(`--password-env ${passwordVar}: that environment variable is empty or not set`);
    return { type: 'basic', username: user, password };
  }
  return { type: 'none' };
}

async function listen(args: string[], io: CliIO, dataDir: string, stopSignal?: Promise<void>): Promise<number> {
  const parsed = parseArgs(args, { values: ['port', 'aet', 'bind', 'max-connections'], flags: [] });
  if (parsed.flags.has('help')) return help(io);
  if (parsed.positionals.length > 0) throw new UsageError('listen takes options only');
  const port = parsed.values.get('port');
  if (port !== undefined && !/^\d+$/.test(port)) throw new UsageError('--port takes a number');
  const maxConnections = parsed.values.get('max-connections');
  if (maxConnections !== undefined && !(/^\d+$/.test(maxConnections) && Number(maxConnections) >= 1)) throw new UsageError('--max-connections takes a number (1 or more)');
  const bind = parsed.values.get('bind');
  if (bind !== undefined) {
    const checked = BindAddress.safeParse(bind);
    if (!checked.success) throw new UsageError(`--bind ${bind}: ${checked.error.issues[0]?.message ?? 'not an IP address'}`);
  }
  return withService(dataDir, async (service) => {
    const status = await service.startListener(
      {
        ...(port ? { port: Number(port) } : {}),
        ...(parsed.values.get('aet') ? { aeTitle: parsed.values.get('aet')! } : {}),
        ...(bind ? { bindAddress: bind } : {}),
        ...(maxConnections ? { limits: { maxConnections: Number(maxConnections) } } : {}),
      },
      { persist: false },
    );
    io.out(`Listening as ${status.settings.aeTitle} on ${status.settings.bindAddress}:${status.settings.port}; files go to ${service.store.root}. Ctrl-C stops.`);
    await (stopSignal ??
      new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }));
    const final = await service.listenerStatus();
    io.out(`Stopped after receiving ${final.received} instance${final.received === 1 ? '' : 's'}${final.refused > 0 ? ` (${final.refused} refused: see the log)` : ''}.`);
    return EXIT_OK;
  });
}

async function conflicts(args: string[], io: CliIO, dataDir: string): Promise<number> {
  const parsed = parseArgs(args, { values: [], flags: ['json'] });
  if (parsed.flags.has('help')) return help(io);
  if (parsed.positionals.length > 0) throw new UsageError('conflicts takes options only');
  return withService(dataDir, async (service) => {
    const list = await service.conflicts();
    if (parsed.flags.has('json')) io.out(`${JSON.stringify({ conflicts: list }, null, 2)}\n`);
    else if (list.length === 0) io.out('No conflicting instance was received.');
    else {
      io.out(`${list.length} received instance${list.length === 1 ? '' : 's'} differ${list.length === 1 ? 's' : ''} from the stored one with the same SOP Instance UID (the stored file is unchanged):`);
      for (const conflict of list) {
        io.out(`${conflict.at}  ${conflict.sopInstanceUid}  from ${conflict.source || '(unknown)'}\n  stored:   ${conflict.originalPath}\n  received: ${conflict.conflictPath}\n  ${conflict.reason}`);
      }
    }
    return EXIT_OK;
  });
}

function help(io: CliIO): number {
  io.out(USAGE);
  return EXIT_OK;
}
