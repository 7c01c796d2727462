// The inference process as the host sees it, whatever started it: a Node child process
// (child_process.fork: browser mode, the CLI, tests) or, in the Electron app, a
// utilityProcess (electron/shell/utility-process-launcher.ts). ONNX Runtime runs there, so
// an abort or segfault in native code ends that process only; the host notices the exit
// and restarts it (inference-service.ts).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProcessReply, ProcessRequest } from './inference-protocol.ts';

export interface InferenceChild {
  send(message: ProcessRequest): void;
  onMessage(listener: (message: ProcessReply) => void): void;
  /** Once, when the process has ended (at once if it already has): how, in words ("exit code 1", "signal SIGABRT"). */
  onExit(listener: (how: string) => void): void;
  kill(): void;
}

/** Starts the process whose entry module is `entry` (inference-process.ts or its bundle). */
export type InferenceChildLauncher = (entry: URL) => InferenceChild;

export const forkInferenceChild: InferenceChildLauncher = (entry) => {
  const child = fork(fileURLToPath(entry), [], {
    // Typed arrays (slice pixels) cross as they are, not as JSON.
    serialization: 'advanced',
    // Not the parent's flags (a test runner's loaders, --inspect): the entry is plain Node.
    execArgv: [],
    // What native libraries print goes to the host's stderr: a CLI's stdout (JSON) stays clean.
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  let exited: string | null = null;
  const exitListeners: Array<(how: string) => void> = [];
  const ended = (how: string) => {
    if (exited !== null) return;
    exited = how;
    for (const listener of exitListeners) listener(how);
  };
  child.on('exit', (code, signal) => ended(signal ? `signal ${signal}` : `exit code ${code}`));
  child.on('error', (error) => {
    ended(`start failed: ${error.message}`);
    child.kill('SIGKILL');
  });
  return {
    send(message) {
      if (exited === null && child.connected) child.send(message);
    },
    onMessage(listener) {
      child.on('message', (message) => listener(message as ProcessReply));
    },
    onExit(listener) {
      if (exited !== null) listener(exited);
      else exitListeners.push(listener);
    },
    kill() {
      if (exited === null) child.kill('SIGKILL');
    },
  };
};

/** The process side of the channel: Electron's parentPort in a utilityProcess, else Node's IPC. */
export interface ParentChannel {
  send(message: ProcessReply): void;
  onMessage(listener: (message: ProcessRequest) => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

export function parentChannel(): ParentChannel {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort) {
    return {
      send: (message) => electronPort.postMessage(message),
      onMessage: (listener) => electronPort.on('message', (event) => listener(event.data as ProcessRequest)),
    };
  }
  if (!process.send) throw new Error('inference-process.ts runs as a child process of the host (fork or utilityProcess), not on its own');
  // The host went away: nothing is left to answer.
  process.on('disconnect', () => process.exit(0));
  return {
    send: (message) => void process.send?.(message),
    onMessage: (listener) => process.on('message', (message) => listener(message as ProcessRequest)),
  };
}
