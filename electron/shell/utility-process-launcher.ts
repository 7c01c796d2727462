// The Electron app's way to start the inference process: a utilityProcess (a Node child
// process that Chromium's process model knows about) instead of child_process.fork, which
// in a packaged app would need the RunAsNode fuse that build/fuses.ts turns off.
// Not exercised by the tests (Electron's binary cannot be installed here); the fork
// launcher it mirrors is (inference-child.ts, test/host/inference-process.test.ts).
import { utilityProcess } from 'electron';
import { fileURLToPath } from 'node:url';
import type { InferenceChildLauncher } from '../host/inference/inference-child.ts';
import type { ProcessReply } from '../host/inference/inference-protocol.ts';

export const utilityProcessLauncher: InferenceChildLauncher = (entry) => {
  const child = utilityProcess.fork(fileURLToPath(entry), [], { serviceName: 'MedReasoner inference', stdio: 'inherit' });
  let exited: string | null = null;
  const exitListeners: Array<(how: string) => void> = [];
  // utilityProcess reports the wait status as a number: a signal shows as a crash code.
  child.on('exit', (code) => {
    exited = `exit code ${code}`;
    for (const listener of exitListeners) listener(exited);
  });
  return {
    send: (message) => {
      if (exited === null) child.postMessage(message);
    },
    onMessage: (listener) => child.on('message', (message: ProcessReply) => listener(message)),
    onExit: (listener) => {
      if (exited !== null) listener(exited);
      else exitListeners.push(listener);
    },
    kill: () => {
      if (exited === null) child.kill();
    },
  };
};
