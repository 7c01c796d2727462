// The per-launch secret of browser mode. Any local process can reach a port on
// 127.0.0.1, and any web page can send requests to it, so every request must prove
// it comes from the page we launched: the page is opened once with ?token=<secret>,
// which becomes an HttpOnly SameSite=Strict cookie; tools and tests may send the
// secret as a bearer token instead.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'mr_session';

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

function sameSecret(candidate: string, secret: string): boolean {
  const a = Buffer.from(candidate);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function isAuthenticated(request: IncomingMessage, secret: string): boolean {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ') && sameSecret(auth.slice('Bearer '.length).trim(), secret)) return true;
  const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
  return cookie !== undefined && sameSecret(cookie, secret);
}

export function tokenMatches(token: string | null, secret: string): boolean {
  return token !== null && sameSecret(token, secret);
}

export function sessionCookie(secret: string): string {
  return `${SESSION_COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * DNS rebinding defence: a page on evil.example resolved to 127.0.0.1 would send
 * its own Host header. Only our exact origin is served.
 */
export function hasExpectedHost(request: IncomingMessage, expectedHost: string): boolean {
  return request.headers.host === expectedHost;
}

/** Browsers send Origin on cross-origin requests and WebSocket upgrades; when present it must be ours. */
export function hasAcceptableOrigin(request: IncomingMessage, expectedOrigin: string): boolean {
  const origin = request.headers.origin;
  return origin === undefined || origin === expectedOrigin;
}
