// Run as its own process by pacs-outbox.test.ts: queues files for a PACS and is killed
// (SIGKILL, no cleanup) right after the PACS has stored them, before the outbox could
// record the delivery: the state an app crash or power cut mid-send leaves behind.
import { Outbox, pacsTransport } from '../../electron/host/pacs/outbox.ts';
import { PacsNode } from '../../electron/common/contract-pacs.ts';

const [outboxDir, nodeJson, ...files] = process.argv.slice(2);
if (!outboxDir || !nodeJson || files.length === 0) {
  process.stderr.write('usage: orthanc-outbox-crash-child.ts <outbox dir> <node JSON> <file>...\n');
  process.exit(2);
}
const node = PacsNode.parse(JSON.parse(nodeJson));
const outbox = await Outbox.open({
  dir: outboxDir,
  resolveNode: async () => undefined,
  transport: {
    hasInstance: pacsTransport.hasInstance,
    store: async (target, items) => {
      await pacsTransport.store(target, items);
      process.kill(process.pid, 'SIGKILL');
      return new Promise(() => {});
    },
  },
});
await outbox.enqueue({ kind: 'inline', node }, 'crash-test', files);
process.stdout.write('queued\n');
await outbox.flush();
