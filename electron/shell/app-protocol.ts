// The privileged medreasoner:// scheme: medreasoner://app/… serves the renderer
// bundle, medreasoner://app/files/<fileKey> the DICOM bytes the index handed out
// (same origin as the page, so the image loader's requests need no CORS), and
// medreasoner://app/file-batch?keys=… many of them in one response (common/file-batch-format.ts).
// A custom scheme rather than file:// because fetch() of file:// fails inside web
// workers (where the image loader decodes) and file:// would expose the whole disk.
import { net, protocol } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { APP_SCHEME } from '../common/bridge.ts';
import { contentSecurityPolicy } from '../common/content-security-policy.ts';
import type { Host } from '../host/host.ts';
import { contentTypeFor } from '../server/static-files.ts';
import { FILE_BATCH_CONTENT_TYPE, FILE_BATCH_PATH } from '../common/file-batch-format.ts';
import { fileBatchBody, planFileBatch } from '../server/file-batch.ts';

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, stream: true },
    },
  ]);
}

const CSP = contentSecurityPolicy([`${APP_SCHEME}:`]);

export function serveAppScheme(host: Host, rendererDir: string): void {
  const root = path.resolve(rendererDir);
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app') return new Response('Not found', { status: 404 });
    if (url.pathname.startsWith('/files/')) {
      const file = host.resolveFile(decodeURIComponent(url.pathname.slice('/files/'.length)));
      if (!file) return new Response('No such file in the index', { status: 404 });
      const response = await net.fetch(pathToFileURL(file).toString());
      return new Response(response.body, { status: response.status, headers: { 'Content-Type': 'application/dicom' } });
    }
    if (url.pathname === FILE_BATCH_PATH) {
      const plan = await planFileBatch(url.searchParams.get('keys'), (key) => host.resolveFile(key));
      if ('refused' in plan) return new Response(plan.refused, { status: plan.status });
      const body = fileBatchBody(plan.items);
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await body.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        async cancel() {
          await body.return(undefined);
        },
      });
      return new Response(stream, { status: 200, headers: { 'Content-Type': FILE_BATCH_CONTENT_TYPE } });
    }
    const relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const full = path.resolve(root, `.${relative}`);
    if (!full.startsWith(root + path.sep)) return new Response('Not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(full).toString());
    const headers = new Headers(response.headers);
    // Codec WASM must arrive as application/wasm or streaming compilation refuses it.
    headers.set('Content-Type', contentTypeFor(full));
    headers.set('Content-Security-Policy', CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}
