// `medreasoner serve`: browser mode. The host and the renderer bundle of the
// Electron app, served on 127.0.0.1. The browser is opened through an owner-only launch
// file holding a one-time link (launch-file.ts); tools find the bearer secret in an
// owner-only file (server-token-file.ts). Neither goes on a command line.
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../../host/app-paths.ts';
import { createHost } from '../../host/host.ts';
import { startBrowserServer } from '../../server/browser-server.ts';
import { openInBrowser } from '../../server/launch-file.ts';
import { removeServerTokenFile, writeServerTokenFile } from '../../server/server-token-file.ts';
import { EXIT_FAILED, EXIT_USAGE, type CliIO } from '../cli-io.ts';

export const RENDERER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/renderer');

export async function runServeCommand(args: string[], io: CliIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        'no-open': { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err(`${(error as Error).message}\nUsage: medreasoner serve [--port N] [--no-open] [--data-dir DIR]`);
    return EXIT_USAGE;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err(`--port must be a port number, not "${values.port}".`);
    return EXIT_USAGE;
  }
  if (!existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    io.err(`The renderer is not built (${RENDERER_DIR} is missing). Run \`npm run build:renderer\` or \`npm start\`.`);
    return EXIT_FAILED;
  }

  const dataDir = values['data-dir'] ? path.resolve(values['data-dir']) : defaultDataDir();
  const host = createHost({ shell: 'browser', dataDir, log: (message) => io.err(message) });
  io.out(`Data folder: ${dataDir}`);
  const server = await startBrowserServer({ host, rendererDir: RENDERER_DIR, port, log: (message) => io.err(message) });
  io.out(`MedReasoner Workstation (browser mode) is serving on ${server.url}`);
  const tokenFile = await writeServerTokenFile(dataDir, server);
  io.out(`Tools: the bearer token is in ${tokenFile} (owner-only).`);
  const printLink = () => io.out(`Open this one-time link within a minute (Enter prints a new one): ${server.newLaunchUrl()}`);
  // The page can open while the sample is written: sample.open waits for the same preparation.
  const started = Date.now();
  host.prepareSample().then(
    (sampleDir) => io.out(`Sample series ready in ${sampleDir} (${Date.now() - started} ms).`),
    // Viewing the user's own data must still work when the sample cannot be written.
    (error: unknown) => io.err(`The embedded sample could not be written: ${(error as Error).message}`),
  );

  if (!values['no-open']) {
    const outcome = await openInBrowser({
      launchUrl: server.newLaunchUrl(),
      dir: path.join(dataDir, 'launch'),
      onError: () => {
        io.out('No browser could be opened: open a link yourself.');
        printLink();
      },
    });
    if (outcome.opened) io.out(`Opened the browser (through ${outcome.file}).`);
    else {
      io.out(`${outcome.message} Open this link in a browser on this machine.`);
      printLink();
    }
  } else printLink();
  // Each link works once: a second browser, or a link that expired, needs a new one.
  const lines = process.stdin.isTTY ? createInterface({ input: process.stdin }) : null;
  lines?.on('line', printLink);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.out('Stopping.');
  lines?.close();
  await removeServerTokenFile(tokenFile);
  await server.close();
  await host.dispose();
  return 0;
}
