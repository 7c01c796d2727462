// The configured PACS nodes and the one the query and send views talk to. The views
// subscribe, so a node saved or removed in the nodes view shows in the others at once.
import type { HostApi } from '../../../electron/common/contract.ts';
import type { PacsCallResult, PacsNodeView } from '../../../electron/common/contract-pacs.ts';

type NodesListing = PacsCallResult<'pacs.nodes.list'>;

export class NodeStore {
  nodes: PacsNodeView[] = [];
  selected: string | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly host: HostApi;

  constructor(host: HostApi) {
    this.host = host;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  async load(): Promise<void> {
    this.apply(await this.host.call('pacs.nodes.list', {}));
  }

  apply(listing: NodesListing): void {
    this.nodes = listing.nodes;
    if (this.selected === null || !this.nodes.some((node) => node.name === this.selected)) this.selected = this.nodes[0]?.name ?? null;
    for (const listener of this.listeners) listener();
  }

  select(name: string | null): void {
    this.selected = name;
    for (const listener of this.listeners) listener();
  }

  find(name: string): PacsNodeView | undefined {
    return this.nodes.find((node) => node.name === name);
  }
}
