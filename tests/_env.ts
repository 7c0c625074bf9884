/**
 * Helpers for tests that need something from the test environment (for
 * example two views of a network filesystem, or a running SLURM).
 *
 * Usage:
 *
 * ```ts
 * import { netfsViews, requirement } from "./_env.ts";
 * import assert from "node:assert/strict";
 * const req = requirement(netfsViews() !== undefined, "two sshfs views");
 * // Pass `req.ignore` to Deno.test and call `req.check()` first in its body.
 * assert.equal(typeof req.ignore, "boolean");
 * ```
 *
 * Normally a test whose requirement is missing is ignored (and the reason is
 * printed to stderr). With `HQ_TEST_REQUIRE_ALL=1` (set by CI) it is not
 * ignored; it runs and fails at `check()`, so a broken environment cannot
 * pass silently.
 *
 * @module
 */

/** True when `HQ_TEST_REQUIRE_ALL=1`: missing requirements fail tests instead of skipping them. */
export const REQUIRE_ALL = Deno.env.get("HQ_TEST_REQUIRE_ALL") === "1";

function isDir(path: string | undefined): path is string {
  if (path === undefined || path === "") return false;
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * The two views of one shared directory through separate network-filesystem
 * mounts (`tools/netfs.sh start`), from `HQ_TEST_NETFS_A` and
 * `HQ_TEST_NETFS_B`. Undefined unless both are set and are existing
 * directories.
 */
export function netfsViews(): { a: string; b: string } | undefined {
  const a = Deno.env.get("HQ_TEST_NETFS_A");
  const b = Deno.env.get("HQ_TEST_NETFS_B");
  if (!isDir(a) || !isDir(b)) return undefined;
  return { a, b };
}

/**
 * A loopback sshd that accepts root logins with a key (`tools/netfs.sh
 * start`), from `HQ_TEST_SSH_PORT` and `HQ_TEST_SSH_KEY`; undefined unless
 * both are set, the key exists and `ssh` is installed.
 */
export function sshLogin(): { port: number; key: string; ssh: string } | undefined {
  const port = Number(Deno.env.get("HQ_TEST_SSH_PORT"));
  const key = Deno.env.get("HQ_TEST_SSH_KEY");
  if (!Number.isInteger(port) || port <= 0 || key === undefined) return undefined;
  try {
    Deno.statSync(key);
  } catch {
    return undefined;
  }
  const ssh = onPath("ssh");
  return ssh === undefined ? undefined : { port, key, ssh };
}

/** The first file called `name` in a `PATH` directory, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

let slurmAnswer: boolean | undefined;

/**
 * Whether a real SLURM is there to submit to (`tools/slurm.sh start`, whose
 * `SLURM_CONF` line must be exported): true when `HQ_TEST_SLURM=1`,
 * `sbatch`, `scontrol`, `scancel` and `squeue` are on `PATH`, and
 * `scontrol ping` reports the controller up. Asked once per process.
 */
export function slurmAvailable(): boolean {
  if (slurmAnswer !== undefined) return slurmAnswer;
  slurmAnswer = false;
  if (Deno.env.get("HQ_TEST_SLURM") !== "1") return false;
  const tools = ["sbatch", "scontrol", "scancel", "squeue"];
  if (tools.some((tool) => onPath(tool) === undefined)) return false;
  try {
    const ping = new Deno.Command("scontrol", { args: ["ping"], stdin: "null" }).outputSync();
    slurmAnswer = ping.success && new TextDecoder().decode(ping.stdout).includes(" is UP");
  } catch {
    // not runnable
  }
  return slurmAnswer;
}

/** What {@link requirement} returns: pass `ignore` to `Deno.test`, call `check()` first in `fn`. */
export interface Requirement {
  /** Value for `Deno.test({ ignore })`: true when unmet and `REQUIRE_ALL` is off. */
  ignore: boolean;
  /** Throws `Error("Required test environment missing: <reason>")` when unmet. */
  check: () => void;
}

/**
 * Declares that a test needs something from its environment.
 *
 * @param ok whether the requirement is met
 * @param reason what is needed, shown when the test is skipped or fails
 * @returns `ignore` = `!ok && !REQUIRE_ALL`; `check()` throws when `!ok`.
 *   When the test will be ignored, one line `skip: <reason>` goes to stderr
 *   (at module load, since this is called while the test is registered).
 */
export function requirement(ok: boolean, reason: string): Requirement {
  const ignore = !ok && !REQUIRE_ALL;
  if (ignore) {
    Deno.stderr.writeSync(new TextEncoder().encode(`skip: ${reason}\n`));
  }
  return {
    ignore,
    check: () => {
      if (!ok) throw new Error("Required test environment missing: " + reason);
    },
  };
}
