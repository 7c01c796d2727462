// `medreasoner serve`: browser mode. The host and the renderer bundle of the
// Electron app, served on 127.0.0.1 with a per-launch secret.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../../host/app-paths.ts';
import { createHost } from '../../host/host.ts';
import { startBrowserServer } from '../../server/browser-server.ts';
import { EXIT_FAILED, EXIT_USAGE, type CliIO } from '../cli-io.ts';

export const RENDERER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/renderer');

function browserOpener(): string[] | null {
  if (process.platform === 'darwin') return ['open'];
  if (process.platform === 'win32') return ['cmd', '/c', 'start', ''];
  return process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? ['xdg-open'] : null;
}

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
  io.out(`Open this URL (it carries this launch's secret): ${server.launchUrl}`);
  // The page can open while the sample is written: sample.open waits for the same preparation.
  const started = Date.now();
  host.prepareSample().then(
    (sampleDir) => io.out(`Sample series ready in ${sampleDir} (${Date.now() - started} ms).`),
    // Viewing the user's own data must still work when the sample cannot be written.
    (error: unknown) => io.err(`The embedded sample could not be written: ${(error as Error).message}`),
  );

  const opener = values['no-open'] ? null : browserOpener();
  if (opener) {
    const [command, ...rest] = opener;
    const child = spawn(command as string, [...rest, server.launchUrl], { stdio: 'ignore', detached: true });
    child.on('error', () => io.out('No browser could be opened: open the URL above yourself.'));
    child.unref();
  } else if (!values['no-open']) {
    io.out('No display found, so no browser was opened: open the URL above in a browser on this machine.');
  }

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.out('Stopping.');
  await server.close();
  await host.dispose();
  return 0;
}
