// A segment as DICOM describes it (Segment Sequence item) plus where it came from.
// Validated on construction: a Segment that exists can be written.
import { codeProblem, type Code } from './codes.ts';
import { rgbProblem, rgbToDicomLab, type DicomLab, type Rgb } from './cielab.ts';
import {
  ALGORITHM_TYPE_FOR_SOURCE,
  PointLabel,
  PromptKind,
  ProvenanceSource,
  SegmentAlgorithmType,
} from './seg-enums.ts';
import { longStringProblem, Problems, quoted } from './validation.ts';

export interface PointPrompt {
  kind: typeof PromptKind.point;
  sliceIndex: number;
  /** Image coordinates as SR SCOORD uses them: (0,0) is the top-left corner of the top-left pixel. */
  x: number;
  y: number;
  label: PointLabel;
}
export interface BoxPrompt {
  kind: typeof PromptKind.box;
  sliceIndex: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
export type Prompt = PointPrompt | BoxPrompt;

/** A model as the report names it (TID 4019); `server` for one that ran on a remote server, left out for a local one. */
export interface ModelId {
  name: string;
  version: string;
  server?: string;
}

export interface Provenance {
  source: ProvenanceSource;
  question?: string;
  reasoning?: string;
  answer?: string;
  prompts?: Prompt[];
  models?: ModelId[];
}

export interface SegmentInit {
  number: number;
  label: string;
  color: Rgb;
  category: Code;
  type: Code;
  anatomicRegion?: Code;
  description?: string;
  algorithmType?: SegmentAlgorithmType;
  algorithmName?: string;
  provenance: Provenance;
}

const SOURCES = new Set<string>(Object.values(ProvenanceSource));
const ALGORITHM_TYPES = new Set<string>(Object.values(SegmentAlgorithmType));
const POINT_LABELS = new Set<string>(Object.values(PointLabel));

function freezeProvenance(p: Provenance): Readonly<Provenance> {
  const copy: Provenance = { source: p.source };
  if (p.question !== undefined) copy.question = p.question;
  if (p.reasoning !== undefined) copy.reasoning = p.reasoning;
  if (p.answer !== undefined) copy.answer = p.answer;
  if (p.prompts !== undefined) copy.prompts = p.prompts.map((q) => Object.freeze({ ...q }));
  if (p.models !== undefined) copy.models = p.models.map((m) => Object.freeze({ ...m }));
  return Object.freeze(copy);
}

export class Segment {
  readonly number: number;
  readonly label: string;
  readonly color: Rgb;
  readonly cielab: DicomLab;
  readonly category: Code;
  readonly type: Code;
  readonly anatomicRegion: Code | null;
  readonly description: string | null;
  readonly algorithmType: SegmentAlgorithmType;
  /** Null exactly when algorithmType is MANUAL. */
  readonly algorithmName: string | null;
  readonly provenance: Readonly<Provenance>;

  constructor(init: SegmentInit) {
    const name = init && typeof init.label === 'string' && init.label !== '' ? ` ${quoted(init.label)}` : '';
    const problems = new Problems(`segment ${String(init?.number)}${name}`);
    if (!init || typeof init !== 'object') {
      problems.add('no segment given');
      problems.throwIfAny();
    }
    problems.check(Number.isInteger(init.number) && init.number >= 1 && init.number <= 65535, `number must be an integer 1..65535, got ${String(init.number)}`);
    const labelProblem = longStringProblem(init.label, { required: true });
    problems.check(labelProblem === null, () => `label ${labelProblem}`);
    const colorProblem = rgbProblem(init.color);
    problems.check(colorProblem === null, () => `color ${colorProblem}`);
    for (const [field, code, required] of [
      ['category', init.category, true],
      ['type', init.type, true],
      ['anatomicRegion', init.anatomicRegion, false],
    ] as const) {
      if (!required && code === undefined) continue;
      const problem = codeProblem(code);
      problems.check(problem === null, () => `${field} code ${problem}`);
    }
    const descriptionProblem = longStringProblem(init.description, { required: false });
    problems.check(descriptionProblem === null, () => `description ${descriptionProblem}`);

    const provenance = init.provenance;
    let derivedType: SegmentAlgorithmType | null = null;
    if (problems.check(!!provenance && typeof provenance === 'object', 'provenance is missing (manual, ai, ai-edited or interactive)')) {
      if (problems.check(SOURCES.has(provenance.source), `provenance.source must be one of ${[...SOURCES].join(', ')}, got ${quoted(String(provenance.source))}`)) {
        derivedType = ALGORITHM_TYPE_FOR_SOURCE[provenance.source];
      }
      checkPrompts(provenance.prompts, problems);
      checkModels(provenance.models, problems);
    }
    if (init.algorithmType !== undefined) {
      problems.check(ALGORITHM_TYPES.has(init.algorithmType), `algorithmType must be AUTOMATIC, SEMIAUTOMATIC or MANUAL, got ${quoted(String(init.algorithmType))}`);
      if (derivedType !== null && ALGORITHM_TYPES.has(init.algorithmType)) {
        problems.check(
          init.algorithmType === derivedType,
          `algorithmType ${init.algorithmType} contradicts provenance "${provenance.source}", which is ${derivedType}`,
        );
      }
    }
    const algorithmType = derivedType ?? SegmentAlgorithmType.MANUAL;
    let algorithmName: string | null = null;
    if (algorithmType === SegmentAlgorithmType.MANUAL) {
      problems.check(init.algorithmName === undefined, 'a MANUAL segment has no algorithm name (SegmentAlgorithmName is for AUTOMATIC and SEMIAUTOMATIC)');
    } else {
      algorithmName = init.algorithmName ?? (provenance?.models?.map((m) => m.name).join(' + ') || null);
      if (problems.check(algorithmName !== null, `an ${algorithmType} segment needs an algorithm name: give algorithmName or provenance.models`)) {
        const problem = longStringProblem(algorithmName, { required: true });
        problems.check(problem === null, () => `algorithm name ${problem}`);
      }
    }
    problems.throwIfAny();

    this.number = init.number;
    this.label = init.label;
    this.color = [init.color[0], init.color[1], init.color[2]];
    this.cielab = rgbToDicomLab(this.color);
    this.category = Object.freeze({ ...init.category });
    this.type = Object.freeze({ ...init.type });
    this.anatomicRegion = init.anatomicRegion ? Object.freeze({ ...init.anatomicRegion }) : null;
    this.description = init.description ?? null;
    this.algorithmType = algorithmType;
    this.algorithmName = algorithmName;
    this.provenance = freezeProvenance(provenance);
    Object.freeze(this.color);
    Object.freeze(this);
  }

  /** True for segments a model produced (as is or edited): they get a report in the SR. */
  /** Came from a model's own answer (as it came, or edited): what the reasoning SR reports. */
  get isAi(): boolean {
    return this.provenance.source === ProvenanceSource.ai || this.provenance.source === ProvenanceSource.aiEdited;
  }

  /** A plain copy (for the contract, workers and autosave). */
  toInit(): SegmentInit {
    const init: SegmentInit = {
      number: this.number,
      label: this.label,
      color: [...this.color],
      category: { ...this.category },
      type: { ...this.type },
      algorithmType: this.algorithmType,
      provenance: structuredClone(this.provenance) as Provenance,
    };
    if (this.anatomicRegion) init.anatomicRegion = { ...this.anatomicRegion };
    if (this.description !== null) init.description = this.description;
    if (this.algorithmName !== null) init.algorithmName = this.algorithmName;
    return init;
  }

  /** The same segment under another number (renumbering on import). */
  withNumber(number: number): Segment {
    return new Segment({ ...this.toInit(), number });
  }
}

function checkPrompts(prompts: Prompt[] | undefined, problems: Problems): void {
  if (prompts === undefined) return;
  if (!problems.check(Array.isArray(prompts), 'provenance.prompts must be a list')) return;
  prompts.forEach((prompt, i) => {
    const at = `prompt ${i + 1}`;
    if (!problems.check(!!prompt && typeof prompt === 'object', `${at} is not an object`)) return;
    problems.check(Number.isInteger(prompt.sliceIndex) && prompt.sliceIndex >= 0, `${at}: sliceIndex must be a slice index (integer ≥ 0), got ${String(prompt.sliceIndex)}`);
    if (prompt.kind === PromptKind.point) {
      problems.check(Number.isFinite(prompt.x) && Number.isFinite(prompt.y), `${at}: point x and y must be finite numbers`);
      problems.check(POINT_LABELS.has(prompt.label), `${at}: point label must be positive or negative, got ${quoted(String(prompt.label))}`);
    } else if (prompt.kind === PromptKind.box) {
      const finite = [prompt.x0, prompt.y0, prompt.x1, prompt.y1].every(Number.isFinite);
      if (problems.check(finite, `${at}: box corners must be finite numbers`)) {
        problems.check(prompt.x1 > prompt.x0 && prompt.y1 > prompt.y0, `${at}: box must have x1 > x0 and y1 > y0, got (${prompt.x0}, ${prompt.y0})–(${prompt.x1}, ${prompt.y1})`);
      }
    } else {
      problems.add(`${at}: kind must be "point" or "box", got ${quoted(String((prompt as { kind?: unknown }).kind))}`);
    }
  });
}

function checkModels(models: ModelId[] | undefined, problems: Problems): void {
  if (models === undefined) return;
  if (!problems.check(Array.isArray(models), 'provenance.models must be a list')) return;
  models.forEach((model, i) => {
    const nameProblem = longStringProblem(model?.name, { required: true });
    problems.check(nameProblem === null, () => `model ${i + 1} name ${nameProblem}`);
    const versionProblem = longStringProblem(model?.version, { required: true });
    problems.check(versionProblem === null, () => `model ${i + 1} version ${versionProblem}`);
    if (model?.server !== undefined) {
      const serverProblem = longStringProblem(model.server, { required: true });
      problems.check(serverProblem === null, () => `model ${i + 1} server ${serverProblem}`);
    }
  });
}
