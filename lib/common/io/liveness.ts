/**
 * Identity of a worker process ({@link ProcessIdentity}) and the check a
 * server on the same machine makes with it: whether that process is gone
 * (killed, crashed) although it never said goodbye.
 *
 * @module
 */
import type { ProcessIdentity } from "../../protocol/mod.ts";

function readOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return null;
  }
}

function linkOrNull(path: string): string | null {
  try {
    return Deno.readLinkSync(path);
  } catch {
    return null;
  }
}

/** State and start time (clock ticks since boot) of a process, from `/proc/<pid>/stat`. */
function procStat(pid: number | "self"): { state: string; startTicks: number } | null {
  const text = readOrNull(`/proc/${pid}/stat`);
  if (text === null) return null;
  // Fields after the command name (which may hold spaces) start at field 3, the state.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const startTicks = Number(fields[19]);
  return { state: fields[0] ?? "", startTicks: Number.isSafeInteger(startTicks) ? startTicks : -1 };
}

/** The machine, boot and pid namespace this process runs in (the pid-independent part). */
export function machineIdentity(): Omit<ProcessIdentity, "startTicks"> {
  return {
    host: Deno.hostname(),
    bootId: readOrNull("/proc/sys/kernel/random/boot_id"),
    pidNamespace: linkOrNull("/proc/self/ns/pid"),
  };
}

/** This process's identity, sent with a worker's registration. */
export function ownProcessIdentity(): ProcessIdentity {
  const stat = procStat("self");
  return {
    ...machineIdentity(),
    startTicks: stat === null || stat.startTicks < 0 ? null : stat.startTicks,
  };
}

/**
 * Whether process `pid` with identity `identity` has certainly ended, as seen
 * from a process on machine `here`: only decidable when both run on the same
 * boot of one machine in one pid namespace; otherwise false (no evidence).
 * A zombie counts as ended, and so does a pid now used by a younger process.
 */
export function processGone(
  pid: number,
  identity: ProcessIdentity | undefined,
  here: Omit<ProcessIdentity, "startTicks">,
): boolean {
  if (
    identity === undefined || identity.bootId === null || identity.pidNamespace === null ||
    identity.bootId !== here.bootId || identity.pidNamespace !== here.pidNamespace
  ) {
    return false;
  }
  const stat = procStat(pid);
  if (stat === null || stat.state === "Z" || stat.state === "X") return true;
  return identity.startTicks !== null && stat.startTicks !== identity.startTicks;
}

/**
 * Whether no live process has id `pid` in this pid namespace (none, or a
 * zombie). Only meaningful for a process known to share the namespace.
 */
export function pidGone(pid: number): boolean {
  const stat = procStat(pid);
  return stat === null || stat.state === "Z" || stat.state === "X";
}
