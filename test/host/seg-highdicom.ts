// highdicom (the project's Python environment) as an independent reader of our SEGs
// and SRs. Not a test file. A missing environment or package fails with what to install.
import { execFileSync, spawnSync } from 'node:child_process';
import { projectPython } from './real-parts.ts';

let checked = false;

/** Runs a Python script that imports highdicom on JSON input; returns its JSON output. */
export function runHighdicom<T>(script: string, input: unknown): T {
  const python = projectPython();
  if (!checked) {
    const probe = spawnSync(python, ['-c', 'import highdicom, pydicom'], { encoding: 'utf8' });
    if (probe.status !== 0) throw new Error(`highdicom is missing from ${python}: ${probe.stderr}. Run \`npm run setup:python\` (native-models/requirements.txt pins highdicom).`);
    checked = true;
  }
  const stdout = execFileSync(python, ['-c', script], { input: JSON.stringify(input), maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  return JSON.parse(stdout) as T;
}
