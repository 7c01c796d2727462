// `medreasoner sample <dir> [--size small|512]`: writes the synthetic CT sample
// and its ground truth into <dir> (created if needed; an existing sample there
// is replaced, any other non-empty folder is refused).
import path from 'node:path';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIO } from '../cli-io.ts';
import { DEFAULT_SAMPLE_SPEC, LARGE_SAMPLE_SPEC, type PhantomSpec } from '../../host/sample/phantom.ts';
import { writeSample } from '../../host/sample/sample-store.ts';

const USAGE = `Usage: medreasoner sample <dir> [--size small|512]

Writes the synthetic torso CT (one DICOM file per slice, in <dir>/dicom) with its
ground-truth organ masks (<dir>/ground-truth.nrrd and .json) and <dir>/sample.json.
  --size small   256×256 pixels of 1.41 mm, 120 slices of 2.5 mm (default)
  --size 512     512×512 pixels of 0.70 mm, 500 slices of 0.6 mm (benchmarks)`;

const SIZES: Record<string, Readonly<PhantomSpec>> = { small: DEFAULT_SAMPLE_SPEC, '512': LARGE_SAMPLE_SPEC };

export async function runSampleCommand(args: string[], io: CliIO): Promise<number> {
  let dir: string | undefined;
  let size = 'small';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') {
      io.out(USAGE);
      return EXIT_OK;
    }
    if (arg === '--size' || arg.startsWith('--size=')) {
      const value = arg === '--size' ? args[++i] : arg.slice('--size='.length);
      if (value === undefined || !(value in SIZES)) {
        io.err(`sample: --size must be "small" or "512"${value === undefined ? '' : `, got "${value}"`}\n\n${USAGE}`);
        return EXIT_USAGE;
      }
      size = value;
    } else if (arg.startsWith('-')) {
      io.err(`sample: unknown option ${arg}\n\n${USAGE}`);
      return EXIT_USAGE;
    } else if (dir === undefined) {
      dir = arg;
    } else {
      io.err(`sample: only one folder may be given (got "${dir}" and "${arg}")\n\n${USAGE}`);
      return EXIT_USAGE;
    }
  }
  if (dir === undefined) {
    io.err(`sample: missing the folder to write to\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const spec = SIZES[size]!;
  const started = performance.now();
  try {
    const manifest = await writeSample(path.resolve(dir), spec);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    io.out(
      `Wrote the sample to ${manifest.dir} in ${seconds} s: ${manifest.files.length} CT slices of ${spec.columns}×${spec.rows} ` +
        `(${spec.pixelSpacing} mm pixels, ${spec.sliceThickness} mm slices) in ${manifest.seriesDir}, ` +
        `ground truth in ${path.join(manifest.dir, manifest.groundTruth.nrrd)}.`,
    );
    return EXIT_OK;
  } catch (error) {
    io.err(`sample: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILED;
  }
}
