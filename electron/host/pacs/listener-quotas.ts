// What the listener lets callers store: instances and bytes per association, and in total
// from the time the listener starts. Bytes count as they arrive (before an instance is
// complete), so neither one huge instance nor many associations at once can pass a limit
// by more than one network chunk. A refused instance's remaining bytes are read and dropped.
import type { ListenerLimits } from '../../common/contract-pacs.ts';

export class ListenerQuotas {
  readonly limits: ListenerLimits;
  totalInstances = 0;
  totalBytes = 0;

  constructor(limits: ListenerLimits) {
    this.limits = limits;
  }

  association(): AssociationQuota {
    return new AssociationQuota(this);
  }
}

export class AssociationQuota {
  private readonly quotas: ListenerQuotas;
  instances = 0;
  bytes = 0;

  constructor(quotas: ListenerQuotas) {
    this.quotas = quotas;
  }

  /** Before an instance's bytes: the reason to refuse it, or null (then it counts). */
  admitInstance(): string | null {
    const { limits } = this.quotas;
    if (this.instances >= limits.maxAssociationInstances) return `the association's limit of ${limits.maxAssociationInstances} instances is reached`;
    if (this.quotas.totalInstances >= limits.maxTotalInstances) return `the listener's limit of ${limits.maxTotalInstances} instances since it started is reached`;
    const refusal = this.byteRefusal();
    if (refusal) return refusal;
    this.instances++;
    this.quotas.totalInstances++;
    return null;
  }

  /** As bytes arrive: the reason to stop storing, or null. */
  addBytes(count: number): string | null {
    this.bytes += count;
    this.quotas.totalBytes += count;
    return this.byteRefusal();
  }

  private byteRefusal(): string | null {
    const { limits } = this.quotas;
    if (this.bytes > limits.maxAssociationBytes) return `the association's limit of ${formatBytes(limits.maxAssociationBytes)} is exceeded`;
    if (this.quotas.totalBytes > limits.maxTotalBytes) return `the listener's limit of ${formatBytes(limits.maxTotalBytes)} since it started is exceeded`;
    return null;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && Number.isInteger(value / 1024)) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}
