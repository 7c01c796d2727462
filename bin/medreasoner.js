#!/usr/bin/env node
// The `medreasoner` command. The CLI is TypeScript run by Node's type stripping
// (Node >= 22.18), the same sources the app runs, so there is no build step to forget.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `medreasoner needs Node.js 22.18 or newer (this is ${process.version}). ` +
      'Run it through npm (`npx medreasoner …` or `npm exec medreasoner`), which puts the project\'s own Node first on the PATH.',
  );
  process.exit(1);
}
const { main } = await import('../electron/cli/medreasoner.ts');
process.exitCode = await main(process.argv.slice(2));
