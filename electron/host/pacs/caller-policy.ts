// Who may store to the listener. An AE title is a name anyone can put in an
// A-ASSOCIATE-RQ, so a caller is accepted only when its calling AE title and the address
// its connection comes from both match one configured DIMSE node. A node's host is
// resolved with the system resolver (dns.lookup: /etc/hosts, then DNS), every address it
// has, IPv4 and IPv6; answers are kept for a minute, and a caller whose address is not
// among them gets one fresh lookup before it is refused (a PACS whose DHCP lease changed).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface KnownCaller {
  /** The node's name, for the log. */
  name: string;
  aeTitle: string;
  host: string;
}

export type CallerVerdict =
  | { accepted: true; node: string }
  | { accepted: false; reason: 'unknown-ae' | 'wrong-address'; message: string };

export type ResolveHost = (host: string) => Promise<string[]>;

export async function resolveHost(host: string): Promise<string[]> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return [normalizeAddress(bare)];
  const answers = await lookup(bare, { all: true, verbatim: true });
  return answers.map((answer) => normalizeAddress(answer.address));
}

/** One spelling per address: IPv4-mapped IPv6 (::ffff:10.0.0.5, what a dual-stack socket reports) as IPv4, IPv6 in lower case. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  return address.toLowerCase();
}

const CACHE_MS = 60_000;

export class CallerPolicy {
  private callers: KnownCaller[] = [];
  private readonly cache = new Map<string, { addresses: Promise<string[]>; at: number }>();
  private readonly resolve: ResolveHost;

  constructor(resolve: ResolveHost = resolveHost) {
    this.resolve = resolve;
  }

  setCallers(callers: KnownCaller[]): void {
    this.callers = callers;
    this.cache.clear();
  }

  /**
   * @param extra callers allowed for now besides the configured ones (the PACS of a C-MOVE in progress)
   */
  async check(callingAet: string, remoteAddress: string | undefined, extra: KnownCaller[] = []): Promise<CallerVerdict> {
    const candidates = [...this.callers, ...extra].filter((caller) => caller.aeTitle === callingAet);
    if (candidates.length === 0) {
      return { accepted: false, reason: 'unknown-ae', message: `calling AE title ${callingAet} belongs to no configured DIMSE node` };
    }
    const address = remoteAddress ? normalizeAddress(remoteAddress) : '';
    for (const fresh of [false, true]) {
      for (const caller of candidates) {
        const addresses = await this.addressesOf(caller.host, fresh);
        if (addresses.includes(address)) return { accepted: true, node: caller.name };
      }
    }
    const expected = await Promise.all(candidates.map(async (caller) => `${caller.name} at ${caller.host} (${(await this.addressesOf(caller.host, false)).join(', ') || 'does not resolve'})`));
    return {
      accepted: false,
      reason: 'wrong-address',
      message: `calling AE title ${callingAet} called from ${address || 'an unknown address'}, which is not the address of its node: ${expected.join('; ')}`,
    };
  }

  private addressesOf(host: string, fresh: boolean): Promise<string[]> {
    const cached = this.cache.get(host);
    if (cached && !fresh && Date.now() - cached.at < CACHE_MS) return cached.addresses;
    // A host that does not resolve matches no caller; the refusal's message says so.
    const addresses = this.resolve(host).catch(() => []);
    this.cache.set(host, { addresses, at: Date.now() });
    return addresses;
  }
}
