// A process that asks the test worker one question through a WorkerRpc whose worker is held
// only while busy, prints the answer and does nothing else: it must end by itself.
import { startNodeWorker } from '../../electron/host/node-worker-port.ts';
import { testRpc } from './rpc-test-client.ts';

const rpc = testRpc('restart', () => startNodeWorker(new URL('./rpc-test-worker.ts', import.meta.url), { holdOnlyWhileBusy: true }));
const answer = await rpc.request((id) => ({ id, op: 'echo', value: 'still here', delayMs: 200 }));
process.stdout.write(`${String(answer)}\n`);
