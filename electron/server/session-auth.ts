// Who may talk to browser mode's server. Any local process can reach a port on
// 127.0.0.1, and any web page can send requests to it, so every request must prove it
// comes from the page we launched or from a tool holding the secret:
// - the launch link carries a one-time nonce (random, valid 60 s, refused on second use);
//   redeeming it mints a separate random session id, kept in an HttpOnly SameSite=Strict
//   cookie whose name carries the port (two instances on one machine keep two cookies);
// - tools and tests send the long-lived secret as a bearer token. The secret is never put
//   in a URL or on a command line, so a link that leaked (browser history, /proc, a
//   screenshot) is worth nothing once used or a minute old.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const LAUNCH_PATH = '/launch';
export const NONCE_PARAM = 'nonce';
export const NONCE_TTL_MS = 60_000;

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function sessionCookieName(port: number): string {
  return `mr_session_${port}`;
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

export type NonceRefusal = 'unknown' | 'used' | 'expired';

export interface SessionAuthOptions {
  /** The bearer token for tools; random when not given. */
  secret?: string;
  cookieName: string;
  nonceTtlMs?: number;
  /** The clock (tests move it past a nonce's lifetime). */
  now?: () => number;
}

export class SessionAuth {
  readonly secret: string;
  readonly cookieName: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Nonce → expiry time. A used or expired one moves to #spent, so its refusal can say why. */
  readonly #nonces = new Map<string, number>();
  readonly #spent = new Map<string, NonceRefusal>();
  readonly #sessions = new Set<string>();

  constructor(options: SessionAuthOptions) {
    this.secret = options.secret ?? newSecret();
    this.cookieName = options.cookieName;
    this.#ttlMs = options.nonceTtlMs ?? NONCE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  issueNonce(): string {
    this.#forgetExpired();
    const nonce = randomBytes(24).toString('base64url');
    this.#nonces.set(nonce, this.#now() + this.#ttlMs);
    return nonce;
  }

  /** Exchanges a nonce for a new session id, once; the reason otherwise. */
  redeem(nonce: string | null): { session: string } | { refused: NonceRefusal } {
    if (!nonce) return { refused: 'unknown' };
    const expires = this.#nonces.get(nonce);
    if (expires === undefined) return { refused: this.#spent.get(nonce) ?? 'unknown' };
    this.#nonces.delete(nonce);
    if (this.#now() > expires) {
      this.#remember(nonce, 'expired');
      return { refused: 'expired' };
    }
    this.#remember(nonce, 'used');
    const session = randomBytes(32).toString('base64url');
    this.#sessions.add(session);
    return { session };
  }

  sessionCookie(session: string): string {
    return `${this.cookieName}=${session}; HttpOnly; SameSite=Strict; Path=/`;
  }

  isAuthenticated(request: IncomingMessage): boolean {
    const auth = request.headers.authorization;
    if (auth?.startsWith('Bearer ') && sameSecret(auth.slice('Bearer '.length).trim(), this.secret)) return true;
    const cookie = cookieValue(request.headers.cookie, this.cookieName);
    return cookie !== undefined && this.#sessions.has(cookie);
  }

  #forgetExpired(): void {
    const now = this.#now();
    for (const [nonce, expires] of this.#nonces) {
      if (now <= expires) continue;
      this.#nonces.delete(nonce);
      this.#remember(nonce, 'expired');
    }
  }

  /** Spent nonces are kept only to word a refusal; a bounded few are enough. */
  #remember(nonce: string, why: NonceRefusal): void {
    this.#spent.set(nonce, why);
    if (this.#spent.size > 64) this.#spent.delete(this.#spent.keys().next().value!);
  }
}

export function refusalMessage(why: NonceRefusal): string {
  switch (why) {
    case 'used':
      return 'This launch link was already used: each link opens one session. Start a new one from the terminal running `medreasoner serve` (press Enter there).';
    case 'expired':
      return 'This launch link has expired (links are valid for one minute). Press Enter in the terminal running `medreasoner serve` for a new one.';
    case 'unknown':
      return 'Unknown launch link. Open the link `medreasoner serve` printed or opened.';
  }
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
