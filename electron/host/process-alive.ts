// Whether a process that left a lock, a staging folder or a temporary file behind is
// still running: signal 0 checks without touching it. EPERM means it runs as another user.
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
