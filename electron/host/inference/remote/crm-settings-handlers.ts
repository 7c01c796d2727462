// The Models-settings calls (crm.settings, crm.saveSettings, crm.testServer): settings are
// read and written through CrmSettingsStore, the renderer gets views without the key, and
// a save switches the running inference service to the chosen CRM.
import type { CrmServerInput, CrmSettingsView, ServerProbeResult } from '../../../common/contract-inference.ts';
import { HostError } from '../../dispatch.ts';
import type { InferenceService } from '../inference-service.ts';
import { AUDIT_FILE } from './crm-audit.ts';
import { CrmServerConfigError } from './crm-server-config.ts';
import { probeServer } from './crm-server-probe.ts';
import { completeServer, CrmSettingsStore, viewOfServer, type CrmSettings } from './crm-server-settings.ts';
import type { CrmServerChoice } from './remote-crm-loader.ts';
import path from 'node:path';

export interface CrmSettingsHandlers {
  settings(): Promise<CrmSettingsView>;
  save(params: { mode: 'local' | 'server'; server?: CrmServerInput }): Promise<CrmSettingsView>;
  test(params: { server: CrmServerInput }): Promise<ServerProbeResult>;
  /** Applies the stored choice to the service (at start-up). */
  apply(): Promise<void>;
}

function asHostError(error: unknown): never {
  if (error instanceof CrmServerConfigError) throw new HostError('invalid-params', error.message);
  throw error;
}

export function createCrmSettingsHandlers(dataDir: string, service: InferenceService, log?: (message: string) => void): CrmSettingsHandlers {
  const store = new CrmSettingsStore(dataDir);
  const view = (settings: CrmSettings): CrmSettingsView => ({ mode: settings.mode, server: settings.server ? viewOfServer(settings.server) : null, auditLog: path.join(dataDir, AUDIT_FILE) });
  const choice = (settings: CrmSettings): CrmServerChoice | null => (settings.mode === 'server' && settings.server ? { config: settings.server, auditDir: dataDir } : null);
  return {
    async settings() {
      return view(await store.load().catch(asHostError));
    },
    async save({ mode, server }) {
      const saved = await (server ? store.saveServer(server, mode) : store.update((s) => ({ ...s, mode }))).catch(asHostError);
      await service.setCrmServer(choice(saved));
      log?.(`inference: the CRM answers from ${saved.mode === 'server' && saved.server ? `${saved.server.model} on ${saved.server.name} (${new URL(saved.server.baseUrl).origin})` : 'the local model'}`);
      return view(saved);
    },
    async test({ server }) {
      const current = await store.load().catch(asHostError);
      let config;
      try {
        config = completeServer(server, current.server);
      } catch (error) {
        asHostError(error);
      }
      return probeServer(config);
    },
    async apply() {
      const settings = await store.load();
      const chosen = choice(settings);
      if (chosen) await service.setCrmServer(chosen);
    },
  };
}
