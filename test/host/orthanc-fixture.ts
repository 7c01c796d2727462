// A real Orthanc (Debian packages orthanc and orthanc-dicomweb) for the PACS tests:
// temporary storage, free ports, our AE title registered as a modality, and a Lua hook
// that logs every stored instance (duplicates included) so tests can count deliveries.
//
// Orthanc 1.10.1 ignores HttpBindAddress and has no DICOM bind address: both ports listen
// on every interface. What keeps it to this machine: RemoteAccessAllowed false (HTTP
// answers loopback clients only) and DICOM that accepts only the modalities registered
// here, checked by AE title and host 127.0.0.1 (DicomCheckModalityHost, no AlwaysAllow*).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
export const DCMTK_STORESCU = '/usr/bin/storescu';

/** Fails (never skips) when a part the tests stand on is missing. */
export function requireOrthanc(): void {
  const missing = [
    [ORTHANC_BINARY, 'Orthanc (Debian package orthanc)'],
    [DICOMWEB_PLUGIN, 'the Orthanc DICOMweb plugin (Debian package orthanc-dicomweb)'],
    [DCMTK_STORESCU, "dcmtk's storescu (Debian package dcmtk)"],
  ].filter(([file]) => !existsSync(file!));
  if (missing.length > 0) {
    throw new Error(
      `The PACS tests need a real Orthanc: missing ${missing.map(([file, what]) => `${what} at ${file}`).join('; ')}. ` +
        'Install with `apt-get install orthanc orthanc-dicomweb dcmtk` (or `bash scripts/install-system-deps.sh`).',
    );
  }
}

/** A port nothing listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface OrthancModality {
  aet: string;
  port: number;
}

export interface OrthancOptions {
  aet?: string;
  /** Modalities allowed to talk to Orthanc (all on 127.0.0.1); default: MEDREASONER and STORESCU. */
  modalities?: Record<string, OrthancModality>;
  /** HTTP basic users; when given, the REST API and DICOMweb require one of them. */
  users?: Record<string, string>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class OrthancFixture {
  readonly dir: string;
  readonly aet: string;
  readonly dicomPort: number;
  readonly httpPort: number;
  private readonly options: OrthancOptions;
  private child: ChildProcess | undefined;
  private logChunks: string[] = [];

  private constructor(dir: string, dicomPort: number, httpPort: number, options: OrthancOptions) {
    this.dir = dir;
    this.dicomPort = dicomPort;
    this.httpPort = httpPort;
    this.options = options;
    this.aet = options.aet ?? 'ORTHANC';
  }

  static async start(options: OrthancOptions = {}): Promise<OrthancFixture> {
    requireOrthanc();
    const dir = mkdtempSync(path.join(tmpdir(), 'medreasoner-orthanc-'));
    const fixture = new OrthancFixture(dir, await freePort(), await freePort(), options);
    fixture.writeConfig();
    await fixture.launch();
    return fixture;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get dicomwebUrl(): string {
    return `${this.baseUrl}/dicom-web`;
  }

  get storeLogFile(): string {
    return path.join(this.dir, 'stored.log');
  }

  private writeConfig(): void {
    const storage = path.join(this.dir, 'storage');
    mkdirSync(storage, { recursive: true });
    const lua = path.join(this.dir, 'log-stored.lua');
    // Every store, duplicates too (OverwriteInstances makes Orthanc store, and call this, again).
    writeFileSync(
      lua,
      `function OnStoredInstance(instanceId, tags, metadata, origin)\n` +
        `  local f = io.open(${JSON.stringify(this.storeLogFile)}, 'a')\n` +
        `  f:write(tags['SOPInstanceUID'] .. '\\n')\n` +
        `  f:close()\n` +
        `end\n`,
    );
    const modalities = this.options.modalities ?? { app: { aet: 'MEDREASONER', port: 104 }, storescu: { aet: 'STORESCU', port: 104 } };
    const config = {
      Name: 'medreasoner-test',
      StorageDirectory: storage,
      IndexDirectory: storage,
      DicomAet: this.aet,
      DicomPort: this.dicomPort,
      HttpPort: this.httpPort,
      HttpBindAddress: '127.0.0.1',
      RemoteAccessAllowed: false,
      AuthenticationEnabled: this.options.users !== undefined,
      ...(this.options.users ? { RegisteredUsers: this.options.users } : {}),
      DicomCheckCalledAet: true,
      DicomAlwaysAllowEcho: false,
      DicomAlwaysAllowStore: false,
      DicomCheckModalityHost: true,
      UnknownSopClassAccepted: true,
      OverwriteInstances: true,
      StableAge: 1,
      LuaScripts: [lua],
      Plugins: [DICOMWEB_PLUGIN],
      DicomWeb: { Enable: true, Root: '/dicom-web/' },
      DicomModalities: Object.fromEntries(
        Object.entries(modalities).map(([name, modality]) => [
          name,
          { AET: modality.aet, Host: '127.0.0.1', Port: modality.port, AllowEcho: true, AllowFind: true, AllowGet: true, AllowMove: true, AllowStore: true },
        ]),
      ),
    };
    writeFileSync(path.join(this.dir, 'orthanc.json'), JSON.stringify(config, null, 2));
  }

  private async launch(): Promise<void> {
    const child = spawn(ORTHANC_BINARY, [path.join(this.dir, 'orthanc.json')], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    const keep = (chunk: Buffer) => {
      this.logChunks.push(chunk.toString('utf8'));
      if (this.logChunks.length > 400) this.logChunks.splice(0, 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
      running.delete(child);
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (exited !== undefined) throw new Error(`Orthanc exited (code ${exited}) while starting:\n${this.logTail()}`);
      try {
        const response = await fetch(`${this.baseUrl}/system`, { headers: this.authHeaders(), signal: AbortSignal.timeout(1000) });
        if (response.ok) {
          await response.arrayBuffer();
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`Orthanc did not answer /system within 30 s:\n${this.logTail()}`);
  }

  /**
   * Stops Orthanc and waits until it has exited (it holds a lock on its database until then).
   * Graceful (SIGTERM) by default, as an administrator stops a PACS; at the end of a test file
   * it is killed, which saves the second its DICOM server takes to wind down.
   */
  async stop(options: { kill?: boolean } = {}): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.child = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(options.kill ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Starts again over the same storage and ports (the PACS coming back). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop({ kill: true });
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(): string {
    return this.logChunks.join('').split('\n').slice(-40).join('\n');
  }

  private authHeaders(): Record<string, string> {
    const [user, password] = Object.entries(this.options.users ?? {})[0] ?? [];
    return user ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {};
  }

  async rest<T = unknown>(route: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${this.baseUrl}${route}`, { ...init, headers: { ...this.authHeaders(), ...(init.headers as Record<string, string>) } });
    if (!response.ok) throw new Error(`Orthanc ${init.method ?? 'GET'} ${route}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async instanceCount(): Promise<number> {
    return (await this.rest<string[]>('/instances')).length;
  }

  /** Orthanc's id of an instance, by SOP Instance UID; undefined when it does not have it. */
  async instanceId(sopInstanceUid: string): Promise<string | undefined> {
    const hits = await this.rest<{ ID: string; Type: string }[]>('/tools/lookup', { method: 'POST', body: sopInstanceUid });
    return hits.find((hit) => hit.Type === 'Instance')?.ID;
  }

  /** The file Orthanc holds for an instance. */
  async instanceFile(sopInstanceUid: string): Promise<Buffer> {
    const id = await this.instanceId(sopInstanceUid);
    if (!id) throw new Error(`Orthanc has no instance ${sopInstanceUid}`);
    const response = await fetch(`${this.baseUrl}/instances/${id}/file`, { headers: this.authHeaders() });
    if (!response.ok) throw new Error(`Orthanc /instances/${id}/file: HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }

  /** SOP Instance UIDs in the order Orthanc stored them, one line per store (duplicates repeat). */
  storedLog(): string[] {
    if (!existsSync(this.storeLogFile)) return [];
    return readFileSync(this.storeLogFile, 'utf8').split('\n').filter((line) => line !== '');
  }

  /** Seeds Orthanc with dcmtk's storescu: an independent sender, so retrieval tests do not stand on our own C-STORE. */
  storeWithDcmtk(files: string[], callingAet = 'STORESCU'): void {
    const result = spawnSync(DCMTK_STORESCU, ['-aet', callingAet, '-aec', this.aet, '--required', '127.0.0.1', String(this.dicomPort), ...files], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (result.status !== 0) throw new Error(`storescu failed (${result.status}): ${result.stderr}\n${this.logTail()}`);
  }
}
