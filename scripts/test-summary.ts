// Prints one closing line, "tests: N passed, N failed[, N skipped]", from vitest's JSON
// report, so CI can read the outcome whatever reporter vitest prints above it.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-artifacts/vitest-results.json';
let report: { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests?: number };
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.error(`No test report at ${file}: the tests did not run (${(error as Error).message}).`);
  process.exit(1);
}
const skipped = report.numPendingTests + (report.numTodoTests ?? 0);
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(report.numFailedTests > 0 || report.numPassedTests === 0 ? 1 : 0);
