// Opening the server CRM: the prompt is the model package's own text (prompt.json) — from
// the file the user named, else from the locally installed MedReasoner package — because the
// server does not hand out its prompt and the app never writes one of its own. The picture
// limits are the package's preprocessor_config.json when it is installed, else the seed's.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { qwenResizeLimits, type QwenPreprocessorConfig } from '../crm-image.ts';
import { PROMPT_FILE, readPromptAt, readPromptFile } from '../crm-prompt.ts';
import type { QwenResizeLimits } from '../qwen-image-resize.ts';
import { createAuditLog } from './crm-audit.ts';
import { insecureProblem, type CrmServerConfig } from './crm-server-config.ts';
import { CrmServerError } from './crm-server-error.ts';
import { createRemoteCrm, SEED_FETCH_LIMITS, type RemoteCrmRunner } from './crm-remote.ts';

export interface CrmServerChoice {
  config: CrmServerConfig;
  /** A prompt.json (or a model folder holding one); default: the installed CRM package's. */
  promptFile?: string;
  /** Where crm-server-audit.jsonl is kept (the app's data folder). */
  auditDir: string;
}

export async function openRemoteCrm(choice: CrmServerChoice, installedCrmDir: string | null): Promise<RemoteCrmRunner> {
  const problem = insecureProblem(choice.config);
  if (problem) throw new CrmServerError('config', problem);
  const promptSource = choice.promptFile ?? installedCrmDir;
  if (promptSource === null) {
    throw new CrmServerError('config', `a CRM server needs the model package's ${PROMPT_FILE} (the exact prompt MedReasoner was trained on): install the MedReasoner package locally (medreasoner models install …) or name the file (CLI: --prompt <prompt.json>)`);
  }
  const promptDir = promptSource.endsWith('.json') ? path.dirname(promptSource) : promptSource;
  const prompt = promptSource.endsWith('.json') ? await readPromptAt(promptSource) : await readPromptFile(promptDir);
  let limits: QwenResizeLimits = SEED_FETCH_LIMITS;
  const preprocessorDir = installedCrmDir ?? promptDir;
  const preprocessor = await readFile(path.join(preprocessorDir, 'preprocessor_config.json'), 'utf8').catch(() => null);
  if (preprocessor !== null) limits = qwenResizeLimits(JSON.parse(preprocessor) as QwenPreprocessorConfig);
  return createRemoteCrm({ config: choice.config, prompt, limits, audit: createAuditLog(choice.auditDir) });
}
