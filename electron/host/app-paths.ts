// Where the app keeps its data (the embedded sample, later models and the outbox).
// Per-OS conventions, overridable because PACS administrators and tests need to
// point several instances at separate folders.
import os from 'node:os';
import path from 'node:path';

export const DATA_DIR_ENV = 'MEDREASONER_HOME';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const override = env[DATA_DIR_ENV];
  if (override && override.trim() !== '') return path.resolve(override);
  const home = os.homedir();
  switch (platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'MedReasoner');
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'MedReasoner');
    default:
      return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'medreasoner');
  }
}
