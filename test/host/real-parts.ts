// The real parts tests stand on. When one is missing the test fails with what to
// install; it never passes by skipping.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYDICOM_TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
export const DEBIAN_PYTHON = '/usr/bin/python3';

export function requireDir(dir: string, what: string): void {
  if (!existsSync(dir)) {
    throw new Error(`${what} is missing (${dir} does not exist). Run \`bash scripts/install-system-deps.sh\`.`);
  }
}

export function requireExecutable(file: string, what: string): void {
  if (!existsSync(file)) {
    throw new Error(`${what} is missing (${file}). Run \`bash scripts/install-system-deps.sh\`.`);
  }
}

/** A module of Debian's python3 (e.g. gdcm from python3-gdcm, pydicom's JPEG and JPEG 2000 decoder). */
export function requireDebianPythonModule(module: string, debianPackage: string): void {
  const result = spawnSync(DEBIAN_PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`Debian's ${debianPackage} is missing (${DEBIAN_PYTHON} cannot import ${module}). Run \`bash scripts/install-system-deps.sh\`.`);
  }
}

/** The project's Python environment (scripts/setup-python.sh): torch, transformers, sam2, onnxruntime, highdicom. */
export function projectPython(): string {
  const venv = process.env['MEDREASONER_VENV'] ?? new URL('../../.venv-models', import.meta.url).pathname;
  const python = `${venv}/bin/python`;
  if (!existsSync(python)) {
    throw new Error(`the project's Python environment is missing (${python}). Run \`npm run setup:python\` (scripts/setup-python.sh).`);
  }
  return python;
}
