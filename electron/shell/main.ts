// Electron main process: a thin shell. It creates the host (plain Node services),
// exposes it through one validated IPC channel and serves the renderer from a
// privileged scheme. Everything heavy runs in the host's workers.
import { app, BrowserWindow, dialog, ipcMain, session, shell, type WebContents } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_SCHEME, IPC_CALL, IPC_EVENT } from '../common/bridge.ts';
import { createHost } from '../host/host.ts';
import { registerAppScheme, serveAppScheme } from './app-protocol.ts';
import { isAllowedExternalUrl, rendererGoneAction } from './shell-policy.ts';
import { utilityProcessLauncher } from './utility-process-launcher.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.resolve(here, '..', 'renderer');
const APP_ORIGIN = `${APP_SCHEME}://app`;

registerAppScheme();

function isOurRenderer(contents: WebContents, frameUrl: string | undefined): boolean {
  return frameUrl !== undefined && frameUrl.startsWith(`${APP_ORIGIN}/`) && !contents.isDestroyed();
}

async function start(): Promise<void> {
  await app.whenReady();
  let window: BrowserWindow | null = null;

  const host = createHost({
    shell: 'electron',
    dataDir: app.getPath('userData'),
    restrictToGrantedPaths: true,
    knownManifestsDir: path.resolve(here, '..', '..', 'native-models'),
    // ONNX Runtime runs in a utility process: a crash there leaves the window and the host.
    inferenceLauncher: utilityProcessLauncher,
    log: (message) => console.error(message),
    choosePaths: async (kind) => {
      const options: Electron.OpenDialogOptions = {
        title: 'Open DICOM',
        properties: kind === 'folder' ? ['openDirectory', 'multiSelections'] : ['openFile', 'multiSelections'],
      };
      const answer = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return answer.canceled ? [] : answer.filePaths;
    },
  });
  serveAppScheme(host, rendererDir);
  void host.prepareSample().catch((error: unknown) => console.error(`The sample could not be written: ${String(error)}`));

  // No remote content, ever: deny every permission request and every navigation away.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  // The spellchecker downloads dictionaries from the internet (Linux, Windows): nothing
  // leaves the machine unless the user configured it.
  session.defaultSession.setSpellCheckerEnabled(false);

  ipcMain.handle(IPC_CALL, async (event, method: unknown, params: unknown) => {
    if (!isOurRenderer(event.sender, event.senderFrame?.url)) {
      return { ok: false, error: { code: 'forbidden-path', message: 'Calls are accepted from the app page only.' } };
    }
    return host.dispatch(typeof method === 'string' ? method : '', params);
  });
  host.subscribe((message) => {
    if (window && !window.isDestroyed()) window.webContents.send(IPC_EVENT, message);
  });

  window = new BrowserWindow({
    width: 1440,
    height: 900,
    backgroundColor: '#0b0f14',
    title: 'MedReasoner Workstation',
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const crashes: number[] = [];
  window.webContents.on('render-process-gone', (_event, details) => {
    const now = Date.now();
    const action = rendererGoneAction(details.reason, crashes, now);
    if (action === 'none') return;
    crashes.push(now);
    console.error(`The renderer process is gone (${details.reason}, exit code ${details.exitCode}).`);
    const reload = () => {
      if (window && !window.isDestroyed()) void window.loadURL(`${APP_ORIGIN}/index.html`);
    };
    if (action === 'reload') {
      reload();
      return;
    }
    const options: Electron.MessageBoxOptions = {
      type: 'error',
      title: 'MedReasoner Workstation',
      message: 'The viewer stopped unexpectedly, several times in a row.',
      detail: `Reason: ${details.reason}. Studies, queued sends and autosaved segmentations are kept. Reload the viewer, or quit and start the app again.`,
      buttons: ['Reload', 'Quit'],
      defaultId: 0,
      cancelId: 1,
    };
    void dialog.showMessageBox(options).then(({ response }) => {
      if (response === 0) reload();
      else void host.dispose().finally(() => app.quit());
    });
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });
  await window.loadURL(`${APP_ORIGIN}/index.html`);

  app.on('window-all-closed', () => {
    void host.dispose().finally(() => app.quit());
  });
}

start().catch((error: unknown) => {
  console.error(error);
  app.exit(1);
});
