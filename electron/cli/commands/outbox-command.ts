// `medreasoner outbox list|flush|retry|remove`: what waits to be sent to a PACS, and why.
// Exit 0 when the command ran (items may still wait), 1 when it failed, 2 on usage errors.
import { defaultDataDir } from '../../host/app-paths.ts';
import { parseArgs, positiveSeconds, UsageError } from '../../host/pacs/cli-args.ts';
import { OutboxBusyError } from '../../host/pacs/outbox.ts';
import { formatOutbox, summarizeOutbox } from '../../host/pacs/pacs-format.ts';
import { withPacsService as withService } from '../../host/pacs/pacs-service.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIO } from '../cli-io.ts';

const USAGE = `Usage: medreasoner outbox <command>

  list [--json] [--pending]    Every item: state (queued, sending, delivered, failed), tries,
                               next try and the reason of the last failure
  flush [--wait SECONDS]       Try every queued item now (also those waiting for their next try),
                               then keep trying for up to SECONDS (default 0)
  retry [ID…]                  Put failed items (all, or those named) back in the queue
  remove ID…                   Drop items from the outbox`;

export interface OutboxCommandOptions {
  dataDir?: string;
}

export async function runOutboxCommand(args: string[], io: CliIO, options: OutboxCommandOptions = {}): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    (sub === undefined ? io.err : io.out)(USAGE);
    return sub === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const dataDir = options.dataDir ?? defaultDataDir();
  try {
    const parsed = parseArgs(rest, { values: ['wait'], flags: ['json', 'pending'] });
    if (parsed.flags.has('help')) {
      io.out(USAGE);
      return EXIT_OK;
    }
    if (sub === 'list') {
      if (parsed.positionals.length > 0) throw new UsageError('list takes no arguments');
      return await withService(dataDir, async (service) => {
        const listing = await service.outbox.list();
        const items = parsed.flags.has('pending') ? listing.items.filter((item) => item.state !== 'delivered') : listing.items;
        if (parsed.flags.has('json')) io.out(`${JSON.stringify({ ...listing, items }, null, 2)}\n`);
        else {
          io.out(formatOutbox(items));
          if (items.length > 0) io.out(`\n${summarizeOutbox(items)}.`);
        }
        return EXIT_OK;
      });
    }
    if (sub === 'flush') {
      if (parsed.positionals.length > 0) throw new UsageError('flush takes no arguments');
      const waitSeconds = positiveSeconds(parsed.values.get('wait'), 'wait', 0);
      return await withService(dataDir, async (service) => {
        const flushed = await service.outbox.flush();
        const pending = flushed.items.filter((item) => item.state === 'queued' || item.state === 'sending');
        const items = waitSeconds > 0 && pending.length > 0 ? await service.outbox.waitFor(pending.map((item) => item.id), waitSeconds * 1000) : [];
        const byId = new Map(items.map((item) => [item.id, item]));
        const all = flushed.items.map((item) => byId.get(item.id) ?? item);
        const open = all.filter((item) => item.state !== 'delivered');
        io.out(`Outbox: ${summarizeOutbox(all)}.`);
        if (open.length > 0) io.out(formatOutbox(open));
        return EXIT_OK;
      });
    }
    if (sub === 'retry') {
      return await withService(dataDir, async (service) => {
        const listing = await service.outbox.retry(parsed.positionals.length > 0 ? parsed.positionals : undefined);
        io.out(`Outbox: ${summarizeOutbox(listing.items)}.`);
        return EXIT_OK;
      });
    }
    if (sub === 'remove') {
      if (parsed.positionals.length === 0) throw new UsageError('remove takes the ids of the items to drop (see outbox list)');
      return await withService(dataDir, async (service) => {
        const known = new Set((await service.outbox.list()).items.map((item) => item.id));
        const unknown = parsed.positionals.filter((id) => !known.has(id));
        if (unknown.length > 0) {
          io.err(`medreasoner outbox remove: no item ${unknown.join(', ')}`);
          return EXIT_FAILED;
        }
        const listing = await service.outbox.remove(parsed.positionals);
        io.out(`Removed ${parsed.positionals.length}. Outbox: ${summarizeOutbox(listing.items)}.`);
        return EXIT_OK;
      });
    }
    throw new UsageError(`unknown command "${sub}"`);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`medreasoner outbox: ${error.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof OutboxBusyError) {
      io.err(`medreasoner outbox ${sub}: ${error.message}`);
      return EXIT_FAILED;
    }
    throw error;
  }
}
