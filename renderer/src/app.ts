// The first screen: the study browser and data panel on the left, one stack viewport
// on the right. Wires the panels to the host and to each other.
import type { AppInfo, HostApi } from '../../electron/common/contract.ts';
import type { ImportResult, PatientSummary, SeriesSummary } from '../../electron/common/dicom-model.ts';
import { SeriesThumbnails } from './cornerstone/series-thumbnails.ts';
import { StackViewer } from './cornerstone/stack-viewer.ts';
import { SeriesDetails } from './series-details.ts';
import { createSegmentEditor } from './segmentation/segment-editor.ts';
import { installAskTestHook, installSegmentationTestHook, installTestHook } from './test-hook.ts';
import { createAskPanel } from './ask/ask-panel.ts';
import type { AppPhase } from './test-hook-types.ts';
import { el } from './ui/dom.ts';
import { createImportPanel, messageOf } from './ui/import-panel.ts';
import { createStatusLine } from './ui/status-line.ts';
import { createStudyBrowser } from './ui/study-browser.ts';
import { createViewerToolbar } from './ui/viewer-toolbar.ts';
import { createViewportOverlay } from './ui/viewport-overlay.ts';
import { PLANES_TOOL_GROUP_ID, VolumeViewer } from './viewer/volume-viewer.ts';
import { createViewerWorkspace } from './viewer/workspace.ts';
import { createPacsPanel } from './pacs/pacs-panel.ts';
import { conflictNotice } from './pacs/pacs-text.ts';
import { createInferenceStatus } from './ui/inference-status.ts';

export async function startApp(root: HTMLElement, host: HostApi, appInfo: AppInfo): Promise<void> {
  let phase: AppPhase = 'starting';
  let patients: PatientSummary[] = [];
  const details = new SeriesDetails(host);
  const thumbnails = new SeriesThumbnails(host, details);
  const status = createStatusLine();
  // The host restarted the inference process after a model crashed it: say which, viewing goes on.
  host.on('models.statusChanged', (change) => {
    if (change.state === 'crashed') status.error(change.message);
  });

  const viewportElement = el('div', { class: 'viewport-element', 'data-testid': 'viewport' });
  const overlay = createViewportOverlay();
  const viewer = new StackViewer(viewportElement, host);
  const stackFrame = el('div', { class: 'viewport-frame' }, viewportElement, overlay.element);
  const volume = new VolumeViewer(host);
  // The ask panel and the segment editor act on the 1×1 view: in the plane layouts they step aside for the panes.
  const sidePanels = el('aside', { class: 'side-panels', 'aria-label': 'Ask and segment', 'data-testid': 'side-panels' });
  const workspace = createViewerWorkspace({ stack: viewer, stackFrame, volume, onError: (message) => status.error(message), onLayoutChange: (layout) => (sidePanels.hidden = layout !== '1x1') });
  const toolbar = createViewerToolbar(workspace);
  viewer.onChange((state) => {
    overlay.render(state);
    toolbar.render(state);
    viewportElement.dataset['seriesKey'] = state.seriesKey ?? '';
    viewportElement.dataset['imageIndex'] = String(state.imageIndex);
    viewportElement.dataset['imageCount'] = String(state.imageCount);
  });
  installTestHook(viewer, () => phase, volume);
  const segmentEditor = createSegmentEditor({ host, viewer, seriesDetail: (key) => details.get(key) });
  installSegmentationTestHook(segmentEditor.testHook);
  // The planes show the segments too, and the toolbar's segment tools (Paint, Erase, …) edit them there.
  volume.onPlanesShown((viewportIds) => segmentEditor.showOnPlanes(viewportIds));
  segmentEditor.editOnPlanes(volume.element, PLANES_TOOL_GROUP_ID, () => volume.state.primaryTool);
  volume.onVolume3DShown((viewportId) => segmentEditor.showIn3D(viewportId));

  const browser = createStudyBrowser({
    thumbnails,
    onOpenSeries: (series) => void openSeries(series),
    onForget: (study) => void changeStudy('dicom.forgetStudy', study.studyInstanceUid),
    onDelete: (study) => void changeStudy('dicom.deleteStudy', study.studyInstanceUid),
    onRescan: async () => {
      try {
        await host.call('dicom.rescan', { jobId: `rescan-${Date.now()}` });
        await refreshStudies();
      } catch (error) {
        status.error(`Could not re-scan: ${messageOf(error)}`);
      }
    },
  });
  const importPanel = createImportPanel({
    host,
    appInfo,
    onFinished: (result) => void afterImport(result),
    onError: (message) => status.error(message),
  });
  // The ask panel's answers become segments of the editor's document for the series in view.
  const ask = createAskPanel({ host, viewer, getModel: () => segmentEditor.model(), onError: (message) => status.error(message) });
  installAskTestHook(() => ask.testState());
  sidePanels.append(ask.element, segmentEditor.element);
  const pacs = createPacsPanel({ host, currentSeriesKey: () => viewer.state.seriesKey, onViewSeries: (keys) => void viewRetrieved(keys), onError: (message) => status.error(message) });

  root.replaceChildren(
    el(
      'header',
      { class: 'topbar' },
      el('div', { class: 'brand' }, el('span', { class: 'brand-mark' }, 'MR'), el('span', { class: 'brand-name' }, 'MedReasoner Workstation')),
      toolbar.element,
      el('div', { class: 'topbar-info' }, `${appInfo.shell} · v${appInfo.version}`),
    ),
    el(
      'div',
      { class: 'workspace' },
      el('aside', { class: 'sidebar' }, importPanel.element, browser.element, el('div', { class: 'sidebar-tools' }, pacs.button, createInferenceStatus(host).element), status.element),
      el('main', { class: 'viewer' }, workspace.controls, el('div', { class: 'viewer-views' }, stackFrame, workspace.element)),
      sidePanels,
    ),
    pacs.element,
  );

  async function refreshStudies(): Promise<void> {
    patients = (await host.call('dicom.studies', {})).patients;
    browser.render(patients);
  }

  function findSeries(seriesKey: string): SeriesSummary | undefined {
    for (const patient of patients) for (const study of patient.studies) for (const series of study.series) if (series.seriesKey === seriesKey) return series;
    return undefined;
  }

  async function openSeries(series: SeriesSummary): Promise<void> {
    browser.setSelected(series.seriesKey);
    try {
      const detail = await details.get(series.seriesKey);
      await workspace.show(series, detail);
    } catch (error) {
      status.error(`Could not open "${series.description || series.seriesKey}": ${messageOf(error)}`);
    }
  }

  /** After an import, show its first image series unless the user is already looking at something. */
  async function afterImport(result: ImportResult): Promise<void> {
    await refreshStudies();
    if (viewer.state.seriesKey !== null) return;
    const first = result.seriesKeys.map(findSeries).find((series) => series?.kind === 'image' && series.sliceCount > 0);
    if (first) await openSeries(first);
  }

  /** A PACS retrieve's "View": its first image series, once the study list has it. */
  async function viewRetrieved(seriesKeys: string[]): Promise<void> {
    await refreshStudies();
    const first = seriesKeys.map(findSeries).find((series) => series?.kind === 'image' && series.sliceCount > 0);
    if (first) await openSeries(first);
    else status.error('The retrieved series has no images to show.');
  }

  async function changeStudy(method: 'dicom.forgetStudy' | 'dicom.deleteStudy', studyInstanceUid: string): Promise<void> {
    try {
      await host.call(method, { studyInstanceUid });
      await refreshStudies();
    } catch (error) {
      status.error(`Could not ${method === 'dicom.forgetStudy' ? 'forget' : 'delete'} the study: ${messageOf(error)}`);
    }
  }

  host.on('dicom.databaseNotice', ({ message }) => browser.showNotice(message));
  host.on('listener.conflict', (conflict) => browser.showNotice(conflictNotice(conflict)));
  host.on('dicom.studiesChanged', ({ seriesKeys }) => {
    thumbnails.forget(seriesKeys);
    refreshStudies().catch((error: unknown) => status.error(`Could not refresh the study list: ${messageOf(error)}`));
  });

  try {
    await refreshStudies();
    const database = await host.call('dicom.database', {});
    if (database.notice) browser.showNotice(database.notice);
    phase = 'ready';
  } catch (error) {
    phase = 'failed';
    status.error(`Could not read the study list: ${messageOf(error)}`);
    return;
  }
  // A fresh install shows images at once: the first start opens the built-in sample.
  if (patients.length === 0) await importPanel.openSample();
}
