// Renderer entry: connect to the host (Electron bridge or browser-mode server), start
// Cornerstone, then the first screen.
import './styles.css';
import { startApp } from './app.ts';
import { installBatchedFileLoader } from './cornerstone/batched-file-loader.ts';
import { initCornerstone } from './cornerstone/init-cornerstone.ts';
import { connectHost } from './host/connect.ts';
import type { MrLoadPlanGlobal } from './test-hook-types.ts';

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) throw new Error('index.html has no #app element');
  try {
    const host = await connectHost();
    const [appInfo] = await Promise.all([host.call('app.info', {}), initCornerstone()]);
    const plan = globalThis as MrLoadPlanGlobal;
    if (plan.__mrFileBatches !== false) installBatchedFileLoader(host, { sliceWorker: plan.__mrSliceWorker !== false });
    await startApp(root, host, appInfo);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    root.replaceChildren(Object.assign(document.createElement('pre'), { className: 'fatal-error', textContent: `MedReasoner could not start:\n${message}` }));
    throw error;
  }
}

void main();
