// "Ask the slice": a question about the slice on screen goes to the reasoning model
// (CRM); its reasoning streams in, its box and key points are drawn where it looked and
// the segmenter's mask is previewed. Clicks and drags refine the prompts (the mask
// follows), Enter accepts the preview as a segment with its provenance, Esc discards it.
// Teaching mode has the resident answer first and scores them against the model.
// Without models the panel says what is missing; box and point prompts still work
// through the host's default segmenter.
import type { HostApi } from '../../../electron/common/contract.ts';
import { servedModelId, type AskResult, type InferenceStatus, type InferenceWindow, type SegmentResult } from '../../../electron/common/contract-inference.ts';
import type { ProvenanceSchema } from '../../../electron/common/contract-seg.ts';
import type { StackViewer } from '../cornerstone/stack-viewer.ts';
import type { EditorSegment, SegmentationModel } from '../segmentation/segmentation-model.ts';
import type { AskTestState } from '../test-hook-types.ts';
import { el } from '../ui/dom.ts';
import type { PixelBox } from './ask-geometry.ts';
import { BRUSH_RADIUS, clampRadius, paintStroke } from './ask-brush.ts';
import { boxMask, maskArea, overlapScores, teachingCsv, type TeachingScore } from './ask-metrics.ts';
import { answerColor, nameAnswer, type SegmentNaming } from './ask-naming.ts';
import { AskOverlay } from './ask-overlay.ts';
import { PromptEditor, provenancePrompts, segmentPrompts, type PromptPoint } from './ask-prompts.ts';
import { ASK_STAGES, AskHistory, AskRun, historyEntry, streamingReasoning, SUGGESTED_QUESTIONS, type HistoryEntry } from './ask-session.ts';
import { decodeMask } from './mask-png.ts';
import { propagateSegment, stopLabel, type PropagationRun } from '../segmentation/propagate-segment.ts';
import './ask.css';

export type AskPanelOptions = {
  host: HostApi;
  viewer: StackViewer;
  /** The segmentation document of the series on screen (null until it exists). */
  getModel(): SegmentationModel | null;
  onError?(message: string): void;
};

export type AskPanel = {
  element: HTMLElement;
  /** Re-reads which models are installed (after an install). */
  refreshStatus(): Promise<void>;
  testState(): AskTestState;
};

type ModelId = { name: string; version: string };

/** The answer being looked at and refined: one slice, its prompts, its mask. */
type Answer = {
  seriesKey: string;
  sliceIndex: number;
  width: number;
  height: number;
  result: AskResult | null;
  editor: PromptEditor;
  mask: Uint8Array | null;
  /** The model's own mask (teaching mode scores against it, not the refined one). */
  modelMask: Uint8Array | null;
  window: InferenceWindow | undefined;
  segmenter: ModelId | null;
  naming: SegmentNaming;
  color: [number, number, number];
};

type Accepted = { segment: EditorSegment; sliceIndex: number; mask: Uint8Array; width: number; height: number; seriesKey: string };

let jobCounter = 0;
const newJobId = (kind: string) => `${kind}-${Date.now().toString(36)}-${++jobCounter}`;

export function createAskPanel(options: AskPanelOptions): AskPanel {
  const { host, viewer, getModel } = options;
  const history = new AskHistory();
  let status: InferenceStatus | null = null;
  let versions = new Map<string, string>();
  let run: AskRun | null = null;
  let answer: Answer | null = null;
  let accepted: Accepted | null = null;
  let error: string | null = null;
  let segmentCalls = 0;
  let segmentGeneration = 0;
  let teaching = false;
  let residentBox: PixelBox | null = null;
  /** The resident's painted answer (brush); a box and a painting replace each other. */
  let residentMask: Uint8Array | null = null;
  let residentMaskVersion = 0;
  let brushRadius: number = BRUSH_RADIUS.initial;
  let residentSlice: number | null = null;
  /** The drawn answer was scored already: the next question needs a new one. */
  let residentScored = false;
  const scores: TeachingScore[] = [];
  let propagation: { cancel(): void; done: number; slices: number[]; running: boolean } | null = null;
  let renderQueued = false;

  const overlay = new AskOverlay(viewer, {
    onBox: (box) => changePrompts((editor) => editor.setBox(box)),
    onPoint: (point, negative) => {
      if (!answer) return;
      const x = Math.min(Math.max(point.x, 0), answer.width - 1);
      const y = Math.min(Math.max(point.y, 0), answer.height - 1);
      changePrompts((editor) => editor.addPoint({ x, y, label: negative ? 0 : 1 }));
    },
    onBrush: (from, to, erase) => paintResident(from, to, erase),
    onResidentBox: (box) => {
      residentBox = box;
      residentMask = null;
      residentSlice = viewer.state.imageIndex;
      residentScored = false;
      overlay.setMode('off');
      syncOverlay();
      render();
    },
  });

  overlay.setBrushRadius(brushRadius);

  // --- elements -----------------------------------------------------------------
  const modelsNote = el('div', { class: 'ask-models', 'data-testid': 'ask-models' }, 'Checking the models…');
  const sliceLabel = el('span', { class: 'ask-slice', 'data-testid': 'ask-slice' });
  const teachingToggle = el('input', { type: 'checkbox', 'data-testid': 'ask-teaching-toggle' });
  const question = el('textarea', { class: 'ask-question', rows: 2, placeholder: 'Ask about this slice, e.g. "Where is the liver?"', 'data-testid': 'ask-question' });
  const askButton = el('button', { type: 'button', class: 'button button-primary', 'data-testid': 'ask-submit' }, 'Ask');
  const suggestions = el(
    'div',
    { class: 'ask-suggestions', 'data-testid': 'ask-suggestions' },
    ...SUGGESTED_QUESTIONS.map((text) => {
      const chip = el('button', { type: 'button', class: 'ask-chip', 'data-testid': 'ask-suggestion' }, text);
      chip.addEventListener('click', () => {
        question.value = text;
        question.focus();
        render();
      });
      return chip;
    }),
  );
  const progressBar = el('progress', { max: 1, value: 0, 'data-testid': 'ask-progress' });
  const activity = el('span', { class: 'ask-activity', 'data-testid': 'ask-activity' });
  const cancelButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-cancel' }, 'Cancel');
  const stagesList = el('ul', { class: 'ask-stages', 'data-testid': 'ask-stages' });
  const runBox = el('div', { class: 'ask-run', hidden: true }, el('div', { class: 'ask-progress-row' }, progressBar, activity, cancelButton), stagesList);
  const reasoning = el('pre', { class: 'ask-reasoning', 'data-testid': 'ask-reasoning', hidden: true });
  const answerLine = el('div', { class: 'ask-answer', 'data-testid': 'ask-answer', hidden: true });
  const errorLine = el('div', { class: 'ask-error', 'data-testid': 'ask-error', hidden: true });

  const promptButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-refine', title: 'Drag a box, click to add a point inside, Shift/Alt+click for a point outside' }, 'Edit prompts');
  const undoButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-prompt-undo' }, 'Undo prompt');
  const clearButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-prompt-clear' }, 'Clear');
  const promptSummary = el('div', { class: 'ask-note', 'data-testid': 'ask-prompt-summary' });
  const nameInput = el('input', { type: 'text', class: 'ask-name', maxlength: 64, 'data-testid': 'ask-name', 'aria-label': 'Segment name' });
  const colorInput = el('input', { type: 'color', class: 'ask-color', 'data-testid': 'ask-color', 'aria-label': 'Segment colour' });
  const codeLine = el('div', { class: 'ask-note', 'data-testid': 'ask-code' });
  const acceptButton = el('button', { type: 'button', class: 'button button-primary', 'data-testid': 'ask-accept', title: 'Accept as a segment (Enter)' }, 'Accept');
  const rejectButton = el('button', { type: 'button', class: 'button', 'data-testid': 'ask-reject', title: 'Discard (Esc)' }, 'Reject');
  const refineBox = el(
    'div',
    { class: 'ask-refine', 'data-testid': 'ask-refine-box', hidden: true },
    el('div', { class: 'button-row' }, promptButton, undoButton, clearButton),
    promptSummary,
    el('div', { class: 'ask-accept-row' }, nameInput, colorInput),
    codeLine,
    el('div', { class: 'button-row' }, acceptButton, rejectButton),
  );

  const propagateButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-propagate' }, 'Propagate to neighbouring slices');
  const propagateCancel = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-propagate-cancel', hidden: true }, 'Stop');
  const propagateStatus = el('span', { class: 'ask-note', 'data-testid': 'ask-propagate-status' });
  const provenanceBox = el('div', { class: 'ask-provenance', 'data-testid': 'ask-provenance', hidden: true });
  const acceptedBox = el('div', { class: 'ask-accepted', hidden: true }, provenanceBox, el('div', { class: 'button-row' }, propagateButton, propagateCancel), propagateStatus);

  const teachingNote = el('div', { class: 'ask-note', 'data-testid': 'ask-teaching-note' });
  const drawButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-teaching-draw', title: 'Drag a box around your answer' }, 'Box');
  const brushButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-teaching-brush', title: 'Paint your answer; Shift or Alt + drag erases' }, 'Brush');
  const radiusInput = el('input', { type: 'range', min: BRUSH_RADIUS.min, max: BRUSH_RADIUS.max, step: 1, value: BRUSH_RADIUS.initial, class: 'ask-brush-radius', 'data-testid': 'ask-brush-radius', 'aria-label': 'Brush radius (pixels)' });
  const radiusLabel = el('span', { class: 'ask-note', 'data-testid': 'ask-brush-radius-label' });
  const residentClear = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-teaching-clear' }, 'Clear my answer');
  const teachingResult = el('div', { class: 'ask-teaching-result', 'data-testid': 'ask-teaching-result' });
  const teachingTable = el('table', { class: 'ask-table', 'data-testid': 'ask-teaching-table' });
  const exportButton = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-teaching-export' }, 'Export CSV');
  const teachingBox = el('div', { class: 'ask-teaching', hidden: true }, teachingNote, el('div', { class: 'button-row' }, drawButton, brushButton, residentClear), el('label', { class: 'ask-brush-row' }, 'Brush radius ', radiusInput, radiusLabel), teachingResult, teachingTable, el('div', { class: 'button-row' }, exportButton));

  const historyList = el('ol', { class: 'ask-history', 'data-testid': 'ask-history' });

  const element = el(
    'aside',
    { class: 'ask-panel', 'data-testid': 'ask-panel' },
    el('div', { class: 'panel' },
      el('h2', { class: 'panel-title' }, 'Ask the slice', sliceLabel),
      modelsNote,
      el('label', { class: 'ask-toggle' }, teachingToggle, ' Teaching mode'),
      question,
      el('div', { class: 'button-row' }, askButton),
      suggestions,
    ),
    el('div', { class: 'panel' }, teachingBox, runBox, errorLine, reasoning, answerLine, refineBox, acceptedBox),
    el('div', { class: 'panel ask-history-panel' }, el('h2', { class: 'panel-title' }, 'Asked on this series'), historyList),
  );

  // --- behaviour ----------------------------------------------------------------
  askButton.addEventListener('click', () => void ask());
  question.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void ask();
    }
  });
  question.addEventListener('input', () => render());
  cancelButton.addEventListener('click', () => {
    if (run?.phase === 'running') void host.call('inference.cancel', { jobId: run.jobId }).catch((e: unknown) => reportError(`Could not cancel: ${messageOf(e)}`));
  });
  promptButton.addEventListener('click', () => {
    if (overlay.mode === 'refine') {
      overlay.setMode('off');
    } else {
      if (!answer || answer.sliceIndex !== viewer.state.imageIndex || answer.seriesKey !== viewer.state.seriesKey) startManualPrompts();
      overlay.setMode('refine');
    }
    render();
  });
  undoButton.addEventListener('click', () => changePrompts((editor) => editor.undo()));
  clearButton.addEventListener('click', () => changePrompts((editor) => editor.clear()));
  acceptButton.addEventListener('click', () => accept());
  rejectButton.addEventListener('click', () => reject());
  nameInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      accept();
    }
  });
  colorInput.addEventListener('input', () => {
    if (!answer) return;
    answer.color = hexToRgb(colorInput.value);
    syncOverlay();
  });
  teachingToggle.addEventListener('change', () => {
    teaching = teachingToggle.checked;
    clearResident();
    overlay.setMode(teaching ? 'draw' : 'off');
    syncOverlay();
    render();
  });
  drawButton.addEventListener('click', () => {
    overlay.setMode('draw');
    syncOverlay();
    render();
  });
  brushButton.addEventListener('click', () => {
    overlay.setMode(overlay.mode === 'brush' ? 'off' : 'brush');
    syncOverlay();
    render();
  });
  radiusInput.addEventListener('input', () => {
    brushRadius = clampRadius(Number(radiusInput.value));
    overlay.setBrushRadius(brushRadius);
    render();
  });
  residentClear.addEventListener('click', () => {
    clearResident();
    syncOverlay();
    render();
  });
  exportButton.addEventListener('click', () => exportCsv());
  propagateButton.addEventListener('click', () => void propagate());
  propagateCancel.addEventListener('click', () => propagation?.cancel());
  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement | null;
    const typing = target instanceof HTMLTextAreaElement || (target instanceof HTMLInputElement && target !== nameInput);
    if (typing || element.offsetParent === null) return;
    if (event.key === 'Enter' && answer?.mask && target !== nameInput) {
      event.preventDefault();
      accept();
    } else if (event.key === 'Escape' && answer) {
      event.preventDefault();
      reject();
    }
  });
  host.on('inference.token', ({ jobId, text }) => {
    if (run && run.jobId === jobId && run.phase === 'running') {
      run.addToken(text);
      render();
    }
  });
  host.on('inference.stage', ({ jobId, stage, state, ms, detail }) => {
    if (run && run.jobId === jobId) {
      run.stage(stage, state, ms, detail);
      render();
    }
  });
  viewer.onChange(() => {
    // The resident draws on whichever slice is on screen.
    if ((overlay.mode === 'draw' || overlay.mode === 'brush') && !answer) syncOverlay();
    render();
  });

  async function refreshStatus(): Promise<void> {
    try {
      const [s, list] = await Promise.all([host.call('models.status', {}), host.call('models.list', {})]);
      status = s;
      versions = new Map(list.installed.map((m) => [m.id, m.version ?? 'unversioned']));
    } catch (e) {
      status = null;
      modelsNote.textContent = `Could not read which models are installed: ${messageOf(e)}`;
    }
    render();
  }

  function currentWindow(): InferenceWindow | undefined {
    const { windowCenter, windowWidth } = viewer.state;
    return windowCenter !== null && windowWidth !== null && windowWidth > 0 ? { center: windowCenter, width: windowWidth } : undefined;
  }

  function modelId(id: string): ModelId {
    return { name: id, version: versions.get(id) ?? (id === 'default-graph-cut' ? 'built-in' : 'unversioned') };
  }

  async function ask(): Promise<void> {
    const text = question.value.trim();
    const { seriesKey, imageIndex } = viewer.state;
    if (!text || !seriesKey || run?.phase === 'running') return;
    if (status && status.crm.state !== 'ready') {
      reportError('The reasoning model is not installed: see above how to install it. Box and point prompts still work (Edit prompts).');
      return;
    }
    if (teaching && !residentReady(imageIndex)) {
      reportError('Teaching mode: mark your answer on this slice first (drag a Box, or paint with the Brush), then ask.');
      return;
    }
    discardPreview();
    error = null;
    const jobId = newJobId('ask');
    const thisRun = new AskRun({ jobId, question: text, seriesKey, sliceIndex: imageIndex });
    run = thisRun;
    if (overlay.mode !== 'off') overlay.setMode('off');
    render();
    const window = currentWindow();
    try {
      const result = await host.call('inference.ask', { jobId, seriesKey, sliceIndex: imageIndex, question: text, ...(window ? { window } : {}) });
      // The answer is drawn before the run says it is answered.
      if (run === thisRun && result.status === 'ok' && result.box) await showAnswer(result);
      thisRun.finish(result);
      history.add(seriesKey, historyEntry(result, new Date()));
    } catch (e) {
      // A cancel before the model started comes back as an error with the code 'cancelled'.
      if ((e as { code?: unknown } | null)?.code === 'cancelled') {
        thisRun.phase = 'cancelled';
        history.add(seriesKey, { id: jobId, question: text, answer: 'Cancelled', reasoning: null, time: new Date().toISOString(), model: status?.crm.label ?? '', sliceIndex: imageIndex, status: 'cancelled' });
      } else {
        thisRun.fail(`The question failed: ${messageOf(e)}`);
      }
    }
    render();
  }

  /** Whether the resident marked an answer on this slice that was not scored yet. */
  function residentReady(sliceIndex: number): boolean {
    if (residentScored || residentSlice !== sliceIndex) return false;
    return residentBox !== null || (residentMask !== null && maskArea(residentMask) > 0);
  }

  function clearResident(): void {
    residentBox = null;
    residentMask = null;
    residentMaskVersion++;
    residentSlice = null;
    residentScored = false;
  }

  function paintResident(from: { x: number; y: number } | null, to: { x: number; y: number }, erase: boolean): void {
    const dims = getModel()?.dims;
    if (!dims || answer) return;
    const { imageIndex } = viewer.state;
    if (!residentMask || residentSlice !== imageIndex || residentScored || residentMask.length !== dims.columns * dims.rows) {
      // A new answer: on another slice, or after the last one was scored.
      residentMask = new Uint8Array(dims.columns * dims.rows);
      residentSlice = imageIndex;
      residentScored = false;
    }
    residentBox = null;
    paintStroke(residentMask, dims.columns, dims.rows, from ?? to, to, brushRadius, erase ? 0 : 1);
    residentMaskVersion++;
    syncOverlay();
    render();
  }

  async function showAnswer(result: AskResult): Promise<void> {
    const points: PromptPoint[] = (result.points ?? []).map(([x, y]) => ({ x, y, label: 1, fromModel: true }));
    const naming = nameAnswer(result.question, result.reasoning);
    const mask = result.mask ? await decodeMask(result.mask) : null;
    answer = {
      seriesKey: result.seriesKey,
      sliceIndex: result.sliceIndex,
      width: result.image.width,
      height: result.image.height,
      result,
      editor: new PromptEditor({ box: result.box, points }),
      mask,
      modelMask: mask,
      window: result.window,
      segmenter: result.segmenter ? modelId(result.segmenter.id) : null,
      naming,
      color: answerColor(naming.termId),
    };
    resetAcceptFields();
    const resident = teaching && mask ? (residentMask ?? (residentBox ? boxMask(answer.width, answer.height, residentBox) : null)) : null;
    if (resident && mask && resident.length !== mask.length) {
      reportError(`Teaching mode: your answer covers ${resident.length} pixels but the model's mask ${mask.length}; not scored.`);
    } else if (resident && mask) {
      const { dice, iou } = overlapScores(resident, mask);
      scores.push({ question: result.question, dice, iou, time: new Date().toISOString(), sliceIndex: result.sliceIndex });
      residentScored = true;
    }
    syncOverlay();
  }

  /** Prompts without a question: the user draws a box and clicks points for the segmenter. */
  function startManualPrompts(): void {
    const { seriesKey, imageIndex } = viewer.state;
    const model = getModel();
    if (!seriesKey || !model) {
      reportError('Open a series first: prompts go on the slice on screen.');
      return;
    }
    discardPreview();
    const naming = nameAnswer('', null);
    answer = {
      seriesKey,
      sliceIndex: imageIndex,
      width: model.dims.columns,
      height: model.dims.rows,
      result: null,
      editor: new PromptEditor(),
      mask: null,
      modelMask: null,
      window: currentWindow(),
      segmenter: null,
      naming: { ...naming, label: 'Segment' },
      color: answerColor(null),
    };
    resetAcceptFields();
    syncOverlay();
  }

  function changePrompts(change: (editor: PromptEditor) => unknown): void {
    if (!answer) return;
    const before = JSON.stringify(answer.editor.prompts);
    change(answer.editor);
    if (JSON.stringify(answer.editor.prompts) === before) return;
    syncOverlay();
    render();
    void resegment(answer);
  }

  async function resegment(target: Answer): Promise<void> {
    const generation = ++segmentGeneration;
    const prompts = segmentPrompts(target.editor.prompts);
    if (!prompts.box && !prompts.points.some((p) => p.label === 1)) {
      // Nothing says where the structure is: no mask (negative points alone cannot make one).
      target.mask = null;
      syncOverlay();
      render();
      return;
    }
    try {
      segmentCalls++;
      const result: SegmentResult = await host.call('inference.segment', {
        seriesKey: target.seriesKey,
        sliceIndex: target.sliceIndex,
        box: prompts.box,
        points: prompts.points,
        ...(target.window ? { window: target.window } : {}),
      });
      const mask = await decodeMask(result.mask);
      if (generation !== segmentGeneration || answer !== target) return;
      target.mask = mask;
      target.width = result.mask.width;
      target.height = result.mask.height;
      target.segmenter = modelId(result.segmenter.id);
      error = null;
    } catch (e) {
      if (generation === segmentGeneration) error = `The segmenter could not use these prompts: ${messageOf(e)}`;
    }
    syncOverlay();
    render();
  }

  /** Pushes the answer to the layer and the preview to the segmentation document. */
  function syncOverlay(): void {
    const model = getModel();
    const teachingOnly = (residentBox || residentMask) && residentSlice !== null ? { residentBox, sliceIndex: residentSlice } : null;
    const painted = residentMask ? { mask: residentMask, version: residentMaskVersion } : null;
    if (answer) {
      const prompts = answer.editor.prompts;
      overlay.setContent({
        sliceIndex: answer.sliceIndex,
        width: answer.width,
        height: answer.height,
        box: prompts.box,
        points: prompts.points,
        mask: answer.mask,
        color: answer.color,
        residentBox: teachingOnly && teachingOnly.sliceIndex === answer.sliceIndex ? teachingOnly.residentBox : null,
        residentMask: teachingOnly && teachingOnly.sliceIndex === answer.sliceIndex ? painted : null,
      });
      if (model && model.seriesKey === answer.seriesKey && answer.mask && answer.mask.length === model.sliceLength) {
        model.setPreview({ sliceIndex: answer.sliceIndex, mask: answer.mask, color: answer.color });
      } else if (model?.preview) {
        model.setPreview(null);
      }
    } else {
      const dims = model?.dims;
      overlay.setContent(
        teachingOnly && dims
          ? { sliceIndex: teachingOnly.sliceIndex, width: dims.columns, height: dims.rows, box: null, points: [], mask: null, color: [0, 0, 0], residentBox: teachingOnly.residentBox, residentMask: painted }
          : dims && (overlay.mode === 'draw' || overlay.mode === 'brush')
            ? { sliceIndex: viewer.state.imageIndex, width: dims.columns, height: dims.rows, box: null, points: [], mask: null, color: [0, 0, 0], residentBox: null }
            : null,
      );
    }
  }

  function resetAcceptFields(): void {
    if (!answer) return;
    nameInput.value = answer.naming.label;
    colorInput.value = rgbToHex(answer.color);
    codeLine.textContent = answer.naming.termId ? `Coded: ${answer.naming.type.meaning} (${answer.naming.type.scheme} ${answer.naming.type.value})` : 'No known structure named: coded as uncoded; change it in the segments panel.';
  }

  function accept(): void {
    const target = answer;
    if (!target?.mask) return;
    const model = getModel();
    if (!model || model.seriesKey !== target.seriesKey) {
      reportError('The segmentation of this series is not ready yet; try again in a moment.');
      return;
    }
    model.setPreview({ sliceIndex: target.sliceIndex, mask: target.mask, color: target.color });
    const result = target.result;
    const refined = target.editor.refined || !result;
    const models: ModelId[] = [];
    // A server's answer is recorded as the served model and the server that produced it (SEG and SR).
    if (result) models.push(result.crm.server ? servedModelId(result.crm.server) : modelId(result.crm.id));
    if (target.segmenter) models.push(target.segmenter);
    const provenance: ProvenanceSchema = {
      source: refined ? 'interactive' : 'ai',
      ...(result ? { question: result.question, answer: result.rawText } : {}),
      ...(result?.reasoning ? { reasoning: result.reasoning } : {}),
      prompts: provenancePrompts(target.editor.prompts, target.sliceIndex),
      models,
    };
    const label = nameInput.value.trim() || target.naming.label;
    const segment = model.acceptPreview({
      label: label.slice(0, 64),
      category: target.naming.category,
      type: target.naming.type,
      ...(target.naming.anatomicRegion ? { anatomicRegion: target.naming.anatomicRegion } : {}),
      color: hexToRgb(colorInput.value),
      provenance,
    });
    accepted = { segment, sliceIndex: target.sliceIndex, mask: target.mask, width: target.width, height: target.height, seriesKey: target.seriesKey };
    answer = null;
    overlay.setMode('off');
    syncOverlay();
    render();
  }

  function reject(): void {
    discardPreview();
    if (overlay.mode === 'refine') overlay.setMode('off');
    render();
  }

  function discardPreview(): void {
    segmentGeneration++;
    answer = null;
    const model = getModel();
    if (model?.preview) model.setPreview(null);
    syncOverlay();
  }

  async function propagate(): Promise<void> {
    const source = accepted;
    const model = getModel();
    if (!source || !model || model.seriesKey !== source.seriesKey || propagation?.running) return;
    const window = currentWindow();
    let run: PropagationRun;
    try {
      run = propagateSegment(host, model, source.segment.number, source.sliceIndex, {
        ...(window ? { window } : {}),
        onProgress: (done, _total, sliceIndex) => {
          state.done = done;
          propagateStatus.textContent = `Slice ${sliceIndex + 1}: ${done} done`;
        },
      });
    } catch (e) {
      propagateStatus.textContent = `Propagation failed: ${messageOf(e)}`;
      return;
    }
    const state = { cancel: () => void run.cancel(), done: 0, slices: [] as number[], running: true };
    propagation = state;
    render();
    try {
      const { result } = await run.done;
      state.slices = result.slices.map((s) => s.sliceIndex).filter((k) => k !== source.sliceIndex);
      const stopped = [result.stopped.backward, result.stopped.forward];
      propagateStatus.textContent = stopped.includes('cancelled')
        ? `Propagation stopped: ${state.slices.length} slices were done (one undo step).`
        : state.slices.length === 0
          ? `The structure does not continue into the neighbouring slices (${stopLabel(result.stopped.backward)}; ${stopLabel(result.stopped.forward)}).`
          : `Propagated to ${state.slices.length} slices (${state.slices[0]! + 1}–${state.slices.at(-1)! + 1}); one undo step. Stopped towards the first slice: ${stopLabel(result.stopped.backward)}; towards the last: ${stopLabel(result.stopped.forward)}.`;
    } catch (e) {
      propagateStatus.textContent = `Propagation failed: ${messageOf(e)}`;
    }
    state.running = false;
    render();
  }

  function exportCsv(): void {
    const blob = new Blob([teachingCsv(scores)], { type: 'text/csv' });
    const url = URL.createObjectURL(blob);
    const link = el('a', { href: url, download: `teaching-session-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  function reportError(message: string): void {
    error = message;
    options.onError?.(message);
    render();
  }

  // --- rendering ----------------------------------------------------------------
  function render(): void {
    if (renderQueued) return;
    renderQueued = true;
    queueMicrotask(() => {
      renderQueued = false;
      renderNow();
    });
  }

  function renderNow(): void {
    const state = viewer.state;
    sliceLabel.textContent = state.seriesKey ? `slice ${state.imageIndex + 1} / ${state.imageCount}` : 'no series';
    renderModels();
    const running = run?.phase === 'running';
    const crmReady = status?.crm.state === 'ready';
    askButton.disabled = running || !state.seriesKey || !question.value.trim() || !crmReady || (teaching && !residentReady(state.imageIndex));
    askButton.textContent = teaching ? 'Reveal the model’s answer' : 'Ask';
    question.disabled = running;

    runBox.hidden = !run;
    if (run) {
      progressBar.value = run.progress;
      activity.textContent = run.activity;
      cancelButton.hidden = !running;
      stagesList.replaceChildren(
        ...ASK_STAGES.flatMap(({ stage, label }) => {
          const record = run!.stages.find((s) => s.stage === stage);
          if (!record) return [];
          const time = record.ms !== null ? `${Math.round(record.ms)} ms` : record.state === 'started' ? '…' : record.state;
          return [el('li', { 'data-stage': stage, 'data-state': record.state }, `${label}: ${time}`)];
        }),
      );
      const shown = streamingReasoning(run.text);
      reasoning.hidden = shown.length === 0;
      reasoning.textContent = shown;
      reasoning.dataset['length'] = String(run.text.length);
      if (running) reasoning.scrollTop = reasoning.scrollHeight;
    } else {
      reasoning.hidden = true;
    }
    const result = run?.result;
    answerLine.hidden = !result;
    if (result) {
      const total = result.timings['total'];
      const speed = result.tokens.perSecond ? ` · ${result.tokens.generated} tokens at ${result.tokens.perSecond.toFixed(1)}/s` : '';
      answerLine.textContent = `${historyEntry(result, new Date()).answer}. ${result.crm.label}${result.segmenter ? ` + ${result.segmenter.label}` : ''}${total !== undefined ? ` · ${Math.round(total)} ms in all` : ''}${speed}`;
    }
    errorLine.hidden = !error && run?.phase !== 'failed';
    errorLine.textContent = error ?? (run?.phase === 'failed' ? run.activity : '');

    refineBox.hidden = !answer;
    if (answer) {
      const prompts = answer.editor.prompts;
      const pos = prompts.points.filter((p) => p.label === 1).length;
      const neg = prompts.points.length - pos;
      const area = answer.mask ? maskArea(answer.mask) : null;
      promptSummary.textContent =
        `${prompts.box ? `Box (${prompts.box.join(', ')})` : 'No box'} · ${pos} inside, ${neg} outside · ` +
        (area === null ? 'no mask yet: drag a box or click inside the structure' : `mask ${area} px`) +
        (answer.sliceIndex !== state.imageIndex ? ` · on slice ${answer.sliceIndex + 1}` : '');
      promptButton.textContent = overlay.mode === 'refine' ? 'Done editing' : 'Edit prompts';
      promptButton.classList.toggle('button-active', overlay.mode === 'refine');
      undoButton.disabled = !answer.editor.canUndo;
      clearButton.disabled = answer.editor.isEmpty;
      acceptButton.disabled = !answer.mask;
    } else {
      promptButton.textContent = 'Edit prompts';
    }
    // Prompting without a question: always offered while a series is open.
    if (!answer) {
      refineBox.hidden = false;
      for (const node of [undoButton, clearButton, acceptButton, rejectButton, nameInput, colorInput]) node.hidden = true;
      promptSummary.textContent = status?.crm.state === 'ready' ? 'Or prompt the segmenter yourself: Edit prompts, then drag a box or click.' : 'Prompt the segmenter yourself: Edit prompts, then drag a box or click inside the structure.';
      codeLine.textContent = '';
      promptButton.disabled = !state.seriesKey;
    } else {
      for (const node of [undoButton, clearButton, acceptButton, rejectButton, nameInput, colorInput]) node.hidden = false;
      promptButton.disabled = false;
    }

    acceptedBox.hidden = !accepted;
    if (accepted) renderProvenance(accepted);
    propagateButton.disabled = !!propagation?.running;
    propagateCancel.hidden = !propagation?.running;

    teachingBox.hidden = !teaching;
    if (teaching) renderTeaching();
    renderHistory(history.list(state.seriesKey));
    element.dataset['phase'] = run?.phase ?? 'idle';
    element.dataset['mode'] = overlay.mode;
  }

  function renderModels(): void {
    if (!status) return;
    const lines: Array<HTMLElement> = [];
    for (const role of [status.crm, status.asm]) {
      const name = role.role === 'crm' ? 'Reasoning model (CRM)' : 'Segmenter (ASM)';
      if (role.state === 'ready') lines.push(el('div', { class: 'ask-model-ok' }, `${name}: ${role.label}`));
      else if (role.state === 'default') lines.push(el('div', { class: 'ask-model-default' }, `${name}: MedSAM2 is not installed, using ${role.label}.`, role.message ? el('pre', { class: 'ask-hint', 'data-testid': `ask-hint-${role.role}` }, role.message) : null));
      else lines.push(el('div', { class: 'ask-model-missing', 'data-testid': `ask-missing-${role.role}` }, `${name}: ${role.state === 'missing' ? 'not installed' : 'installed but unusable'}.`, role.message ? el('pre', { class: 'ask-hint', 'data-testid': `ask-hint-${role.role}` }, role.message) : null));
    }
    modelsNote.replaceChildren(...lines);
    modelsNote.dataset['crm'] = status.crm.state;
    modelsNote.dataset['asm'] = status.asm.state;
  }

  function renderProvenance(item: Accepted): void {
    const segment = getModel()?.segment(item.segment.number) ?? item.segment;
    const p = segment.provenance;
    provenanceBox.hidden = false;
    provenanceBox.replaceChildren(
      el('div', { class: 'ask-provenance-title' }, el('span', { class: 'ask-swatch', style: `background: rgb(${segment.color.join(',')})` }), `Segment ${segment.number}: ${segment.label}`),
      el('dl', {},
        el('dt', {}, 'Source'), el('dd', { 'data-testid': 'ask-provenance-source' }, p.source),
        p.question ? el('dt', {}, 'Question') : null, p.question ? el('dd', { 'data-testid': 'ask-provenance-question' }, p.question) : null,
        el('dt', {}, 'Models'), el('dd', { 'data-testid': 'ask-provenance-models' }, (p.models ?? []).map((m) => `${m.name} ${m.version}`).join(', ') || '—'),
        el('dt', {}, 'Prompts'), el('dd', {}, `${(p.prompts ?? []).length} on slice ${item.sliceIndex + 1}`),
        el('dt', {}, 'Code'), el('dd', {}, `${segment.type.meaning} (${segment.type.scheme} ${segment.type.value})`),
      ),
      ...(p.reasoning ? [el('details', {}, el('summary', {}, 'Reasoning'), el('pre', { class: 'ask-reasoning' }, p.reasoning))] : []),
    );
  }

  function renderTeaching(): void {
    const marked = residentBox !== null || (residentMask !== null && maskArea(residentMask) > 0);
    teachingNote.textContent = overlay.mode === 'draw'
      ? 'Drag a box on the slice around your answer.'
      : overlay.mode === 'brush'
        ? 'Paint your answer on the slice; Shift or Alt + drag erases.'
        : marked && residentScored
          ? 'Scored below. For the next question, mark a new answer first.'
          : marked
            ? 'Your answer is marked (cyan). Ask to reveal the model’s reasoning and mask.'
            : 'Mark your answer first (a box or the brush), then the model’s is revealed and scored.';
    drawButton.classList.toggle('button-active', overlay.mode === 'draw');
    brushButton.classList.toggle('button-active', overlay.mode === 'brush');
    brushButton.textContent = overlay.mode === 'brush' ? 'Done painting' : 'Brush';
    residentClear.disabled = !marked;
    radiusLabel.textContent = `${brushRadius} px`;
    const last = scores.at(-1);
    teachingResult.replaceChildren(
      ...(last && run?.result && last.question === run.result.question
        ? [el('strong', {}, 'Your answer vs the model: '), el('span', { 'data-testid': 'ask-teaching-dice', 'data-value': String(last.dice) }, `Dice ${last.dice.toFixed(3)}`), ' · ', el('span', { 'data-testid': 'ask-teaching-iou', 'data-value': String(last.iou) }, `IoU ${last.iou.toFixed(3)}`)]
        : []),
    );
    teachingTable.replaceChildren(
      el('thead', {}, el('tr', {}, el('th', {}, 'Question'), el('th', {}, 'Dice'), el('th', {}, 'IoU'), el('th', {}, 'Time'))),
      el('tbody', {}, ...scores.map((s) => el('tr', {}, el('td', {}, s.question), el('td', {}, s.dice.toFixed(3)), el('td', {}, s.iou.toFixed(3)), el('td', {}, s.time.slice(11, 19))))),
    );
    exportButton.disabled = scores.length === 0;
  }

  function renderHistory(entries: readonly HistoryEntry[]): void {
    historyList.replaceChildren(
      ...entries.map((entry) => {
        const reask = el('button', { type: 'button', class: 'button button-small', 'data-testid': 'ask-history-reask', title: 'Put the question back in the box to edit and ask again' }, 'Edit & ask again');
        reask.addEventListener('click', () => {
          question.value = entry.question;
          question.focus();
          render();
        });
        return el(
          'li',
          { 'data-testid': 'ask-history-item', 'data-status': entry.status },
          el('div', { class: 'ask-history-question' }, entry.question),
          el('div', { class: 'ask-note' }, entry.answer),
          el('div', { class: 'ask-note' }, `${entry.model} · slice ${entry.sliceIndex + 1} · ${new Date(entry.time).toLocaleTimeString()}`),
          reask,
        );
      }),
    );
  }

  function testState(): AskTestState {
    const model = getModel();
    const prompts = answer?.editor.prompts ?? { box: null, points: [] };
    const missing = status ? [status.crm, status.asm].filter((r) => r.state === 'missing' || r.state === 'broken').map((r) => `${r.role}: ${r.message ?? r.state}`) : [];
    return {
      phase: run?.phase ?? 'idle',
      overlayMode: overlay.mode,
      jobId: run?.jobId ?? null,
      question: run?.question ?? null,
      streamedLength: run?.text.length ?? 0,
      tokenEvents: run?.tokenEvents ?? 0,
      sliceIndex: answer?.sliceIndex ?? null,
      answerBox: answer?.result?.box ?? null,
      keyPoints: answer?.result?.points ? answer.result.points.map(([x, y]) => [x, y] as [number, number]) : null,
      prompts: segmentPrompts(prompts),
      previewArea: answer?.mask ? maskArea(answer.mask) : null,
      modelPreviewArea: model?.preview ? maskArea(model.preview.mask) : null,
      segmentCalls,
      error: error ?? (run?.phase === 'failed' ? run.error : null),
      modelsMissing: missing.length ? missing.join('\n') : null,
      history: history.list(viewer.state.seriesKey).map(({ question: q, answer: a, time, model: m }) => ({ question: q, answer: a, time, model: m })),
      teaching: {
        enabled: teaching,
        residentBox,
        residentMask: residentMask && residentSlice !== null && getModel()?.dims
          ? { sliceIndex: residentSlice, width: getModel()!.dims.columns, height: getModel()!.dims.rows, pixels: [...residentMask.keys()].filter((i) => residentMask![i]) }
          : null,
        brushRadius,
        scores: scores.map(({ question: q, dice, iou, time }) => ({ question: q, dice, iou, time })) },
      segments: (model?.segments ?? []).map((s) => ({
        number: s.number,
        label: s.label,
        color: s.color,
        type: s.type.meaning,
        provenance: {
          source: s.provenance.source,
          ...(s.provenance.question !== undefined ? { question: s.provenance.question } : {}),
          ...(s.provenance.reasoning !== undefined ? { reasoning: s.provenance.reasoning } : {}),
          ...(s.provenance.answer !== undefined ? { answer: s.provenance.answer } : {}),
          ...(s.provenance.models ? { models: s.provenance.models.map((m) => ({ ...m })) } : {}),
          ...(s.provenance.prompts ? { prompts: s.provenance.prompts.length } : {}),
        },
      })),
      propagation: propagation ? { running: propagation.running, done: propagation.done, slices: [...propagation.slices] } : null,
    };
  }

  void refreshStatus();
  render();
  return { element, refreshStatus, testState };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function rgbToHex([r, g, b]: [number, number, number]): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function hexToRgb(hex: string): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  return match ? [parseInt(match[1]!, 16), parseInt(match[2]!, 16), parseInt(match[3]!, 16)] : [90, 200, 250];
}
