// Getting data in: the sample, and import of files or folders (a typed path in browser
// mode, the native dialog in Electron). One job at a time, with its progress, a cancel
// button and the per-file problems of the last job.
import type { AppInfo, HostApi, ImportProgress } from '../../../electron/common/contract.ts';
import type { ImportResult } from '../../../electron/common/dicom-model.ts';
import { el } from './dom.ts';

export type ImportPanel = {
  element: HTMLElement;
  openSample(): Promise<ImportResult | null>;
  importPaths(paths: string[]): Promise<ImportResult | null>;
};

const phaseLabels: Record<ImportProgress['phase'], string> = {
  scan: 'Scanning',
  parse: 'Reading',
  group: 'Building series',
  done: 'Finishing',
};

export function createImportPanel(options: {
  host: HostApi;
  appInfo: AppInfo;
  onFinished(result: ImportResult): void;
  onError(message: string): void;
}): ImportPanel {
  const { host, appInfo } = options;

  const sampleButton = el('button', { type: 'button', class: 'button button-primary', 'data-testid': 'open-sample' }, 'Open sample');
  const pathInput = el('input', {
    type: 'text',
    class: 'text-input',
    placeholder: 'Folder, file or DICOMDIR path on this computer',
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-label': 'Path to import',
    'data-testid': 'import-path',
  });
  const importButton = el('button', { type: 'submit', class: 'button', 'data-testid': 'import-button' }, 'Import');
  const chooseFolderButton = el('button', { type: 'button', class: 'button', 'data-testid': 'import-folder' }, 'Import folder…');
  const chooseFilesButton = el('button', { type: 'button', class: 'button', 'data-testid': 'import-files' }, 'Import files…');

  const progressLabel = el('span', { class: 'progress-label', 'data-testid': 'import-progress-label' });
  const progressBar = el('progress', { class: 'progress-bar', max: 1, 'data-testid': 'import-progress-bar' });
  const cancelButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'import-cancel' }, 'Cancel');
  const progress = el('div', { class: 'import-progress', hidden: true, 'data-testid': 'import-progress' }, el('div', { class: 'progress-row' }, progressLabel, cancelButton), progressBar);

  const summary = el('div', { class: 'import-summary', 'data-testid': 'import-summary' });
  const problemList = el('ul', { class: 'problem-list' });
  const problemCount = el('span', {});
  const problems = el('details', { class: 'import-problems', hidden: true, 'data-testid': 'import-problems' }, el('summary', {}, problemCount), problemList);

  const pickers = appInfo.canChoosePaths
    ? el('div', { class: 'button-row' }, chooseFolderButton, chooseFilesButton)
    : el('form', { class: 'import-form' }, pathInput, importButton);

  const element = el(
    'section',
    { class: 'panel import-panel' },
    el('h2', { class: 'panel-title' }, 'Data'),
    el('div', { class: 'button-row' }, sampleButton),
    pickers,
    progress,
    summary,
    problems,
  );

  let runningJob: string | null = null;
  const controls = [sampleButton, importButton, chooseFolderButton, chooseFilesButton, pathInput];

  host.on('dicom.importProgress', (event) => {
    if (event.jobId !== runningJob) return;
    const counts = event.total > 0 ? `${event.done} / ${event.total} files` : `${event.done} files`;
    progressLabel.textContent = `${phaseLabels[event.phase]} · ${counts}${event.problems > 0 ? ` · ${event.problems} problem${event.problems === 1 ? '' : 's'}` : ''}`;
    if (event.total > 0 && event.phase !== 'scan') {
      progressBar.max = event.total;
      progressBar.value = event.done;
    } else {
      progressBar.removeAttribute('value'); // indeterminate while the file count still grows
    }
  });

  cancelButton.addEventListener('click', () => {
    if (!runningJob) return;
    cancelButton.disabled = true;
    progressLabel.textContent = 'Cancelling…';
    host.call('dicom.cancelImport', { jobId: runningJob }).catch((error: unknown) => options.onError(messageOf(error)));
  });

  async function run(label: string, start: (jobId: string) => Promise<ImportResult>): Promise<ImportResult | null> {
    if (runningJob) {
      options.onError('An import is already running; wait for it or cancel it first.');
      return null;
    }
    const jobId = newJobId();
    runningJob = jobId;
    for (const control of controls) control.disabled = true;
    cancelButton.disabled = false;
    progress.hidden = false;
    progressLabel.textContent = `${label}…`;
    progressBar.removeAttribute('value');
    summary.textContent = '';
    try {
      const result = await start(jobId);
      showResult(result);
      options.onFinished(result);
      return result;
    } catch (error) {
      summary.textContent = '';
      options.onError(`${label} failed: ${messageOf(error)}`);
      return null;
    } finally {
      runningJob = null;
      progress.hidden = true;
      for (const control of controls) control.disabled = false;
    }
  }

  function showResult(result: ImportResult): void {
    const seconds = (result.elapsedMs / 1000).toFixed(1);
    const added = `${result.instancesAdded} new image${result.instancesAdded === 1 ? '' : 's'} in ${result.seriesKeys.length} series from ${result.filesSeen} file${result.filesSeen === 1 ? '' : 's'} (${seconds} s)`;
    summary.textContent = result.cancelled ? `Cancelled: ${added} kept.` : `Imported ${added}.`;
    summary.dataset['state'] = result.cancelled ? 'cancelled' : 'done';
    problemCount.textContent = `${result.problems.length} file${result.problems.length === 1 ? '' : 's'} skipped`;
    problemList.replaceChildren(
      ...result.problems.map((problem) =>
        el(
          'li',
          { class: 'problem', 'data-reason': problem.reason },
          el('span', { class: 'badge badge-warning' }, problem.reason),
          el('span', { class: 'problem-path', title: problem.path }, fileNameOf(problem.path)),
          el('span', { class: 'problem-detail' }, problem.detail),
          el('span', { class: 'problem-folder', title: problem.path }, folderOf(problem.path)),
        ),
      ),
    );
    problems.hidden = result.problems.length === 0;
    problems.open = false;
  }

  const openSample = (): Promise<ImportResult | null> => run('Opening the sample', (jobId) => host.call('sample.open', { jobId }));
  const importPaths = (paths: string[]): Promise<ImportResult | null> => run('Importing', (jobId) => host.call('dicom.import', { jobId, paths }));

  sampleButton.addEventListener('click', () => void openSample());
  pickers.addEventListener('submit', (event) => {
    event.preventDefault();
    const path = pathInput.value.trim();
    if (!path) {
      options.onError('Type the path of a DICOM file, folder or DICOMDIR first.');
      return;
    }
    void importPaths([path]);
  });
  for (const [button, kind] of [
    [chooseFolderButton, 'folder'],
    [chooseFilesButton, 'files'],
  ] as const) {
    button.addEventListener('click', async () => {
      try {
        const { paths } = await host.call('app.choosePaths', { kind });
        if (paths.length > 0) await importPaths(paths);
      } catch (error) {
        options.onError(`Could not open the file dialog: ${messageOf(error)}`);
      }
    });
  }

  return { element, openSample, importPaths };
}

/** Paths come from the host's platform: split on either separator. */
function fileNameOf(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

function folderOf(path: string): string {
  const name = fileNameOf(path);
  return path.slice(0, Math.max(0, path.length - name.length - 1));
}

function newJobId(): string {
  return `import-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
