/**
 * Whether a process of this machine still runs: the owners of the account gate's leases, of the
 * result cache's entry locks and of the `.part` files beside `--out` are told apart from those of
 * killed runs by their pid.
 */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
