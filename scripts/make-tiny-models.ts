// `npm run models:tiny -- <dir>`: writes the tiny test models (CRM and ASM, with the real
// exports' layout and tensor signatures) into <dir>, a models folder the app and the CLI
// accept with --models <dir>. They answer nothing real: the CRM always writes one scripted
// answer and the ASM's mask is the rectangle spanned by the prompts.
import path from 'node:path';
import { writeTinyModels } from '../native-models/tiny/make-tiny-models.ts';

const [dir, ...rest] = process.argv.slice(2);
if (!dir || rest.length > 0 || dir === '--help' || dir === '-h') {
  console.error('usage: npm run models:tiny -- <models dir>');
  process.exit(dir === '--help' || dir === '-h' ? 0 : 2);
}
const started = performance.now();
const result = await writeTinyModels(path.resolve(dir));
console.log(`Tiny models written to ${result.modelsDir} in ${Math.round(performance.now() - started)} ms:`);
console.log(`  ${path.relative(process.cwd(), result.crmDir) || result.crmDir}  (CRM: replays ${JSON.stringify(result.crmAnswer.slice(0, 60))}…)`);
console.log(`  ${path.relative(process.cwd(), result.asmDir) || result.asmDir}  (ASM: ${result.asmImageSize} px, mask = rectangle spanned by the prompts)`);
console.log(`Use them with: medreasoner ask --models ${dir} …   or MEDREASONER_MODELS=${dir}`);
