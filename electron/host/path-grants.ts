// In Electron the renderer may only import what the user chose in a native dialog
// (or the app's own sample): a compromised renderer must not be able to index
// arbitrary folders. Browser mode and the CLI take paths the user typed, so they
// run without grants.
import path from 'node:path';

export class PathGrants {
  private readonly roots = new Set<string>();

  grant(p: string): void {
    this.roots.add(path.resolve(p));
  }

  allows(p: string): boolean {
    const target = path.resolve(p);
    for (const root of this.roots) {
      if (target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) return true;
    }
    return false;
  }
}
