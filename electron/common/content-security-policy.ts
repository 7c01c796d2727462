// One CSP for both shells: the renderer loads only its own bundle, talks only to its
// own host, and runs codec WASM (hence 'wasm-unsafe-eval', never 'unsafe-eval').
// Inline styles are allowed because Cornerstone and vtk.js set element styles.
export function contentSecurityPolicy(connectSources: string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${connectSources.join(' ')}`.trim(),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
