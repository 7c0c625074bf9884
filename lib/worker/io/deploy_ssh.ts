/**
 * `hq worker deploy-ssh <hostfile> [worker start args]`: starts one worker on
 * each host of a host file over `ssh`, pointing it at the same server
 * directory (which the hosts share), and waits for them all, as HyperQueue
 * does. Ctrl-C closes every worker.
 *
 * @module
 */
import { resolvePath } from "../../common/mod.ts";
import { resolveServerDir } from "../../protocol/io/mod.ts";

/** One `host` or `host:port` line of a host file. */
export interface SshHost {
  /** Host name as written. */
  host: string;
  /** Port, when given. */
  port: number | null;
}

/**
 * Parses a host file: one `host` or `host:port` per line; blank lines and
 * `#` comments are skipped.
 *
 * @throws {SyntaxError} For a line with an empty host or a bad port.
 */
export function parseHostfile(text: string): SshHost[] {
  const hosts: SshHost[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.lastIndexOf(":");
    const host = colon < 0 ? line : line.slice(0, colon);
    if (host === "") throw new SyntaxError(`The provided hostname is empty: "${line}"`);
    let port: number | null = null;
    if (colon >= 0) {
      const text = line.slice(colon + 1);
      if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
        throw new SyntaxError(`Cannot parse port from ${line}: invalid port "${text}"`);
      }
      port = Number(text);
    }
    hosts.push({ host, port });
  }
  return hosts;
}

/** The remote command that starts a worker: this program, same entry point, same server dir. */
export function remoteWorkerCommand(
  denoPath: string,
  mainModule: string,
  serverDir: string,
  args: readonly string[],
): string[] {
  const viaUmbrella = mainModule.endsWith("/hq.ts") || mainModule.endsWith("/hq.js");
  const hasDir = args.some((a) => a === "--server-dir" || a.startsWith("--server-dir="));
  return [
    denoPath,
    "run",
    "-A",
    mainModule,
    ...(viaUmbrella ? ["worker", "start"] : ["start"]),
    ...(hasDir ? [] : ["--server-dir", serverDir]),
    ...args,
  ];
}

/** Quotes a word for the remote shell that ssh hands the command to. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Options of {@link deployWorkersOverSsh}. */
export interface DeploySshOptions {
  /** Path of the host file. */
  hostfile: string;
  /** Arguments for `hq worker start`. */
  workerArgs: string[];
  /** Show the workers' output instead of discarding it. */
  showOutput: boolean;
  /** `--server-dir` as given, unresolved. */
  serverDir: string | undefined;
  /** Log sink. */
  log: (level: "INFO" | "WARN" | "ERROR", line: string) => void;
  /** Validates the worker arguments locally first. */
  validate: (args: readonly string[]) => void;
}

async function sshAvailable(): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const info = await Deno.stat(`${dir || "."}/ssh`);
      if (info.isFile) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Runs the workers; resolves with the exit code (1 when any worker ended with an error). */
export async function deployWorkersOverSsh(options: DeploySshOptions): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(options.hostfile);
  } catch (e) {
    throw new Error(`Cannot load hostfile from ${options.hostfile}: ${(e as Error).message}`);
  }
  const hosts = parseHostfile(text);
  if (hosts.length === 0) {
    throw new Error(`Cannot deploy workers: ${options.hostfile} lists no host`);
  }
  options.validate(options.workerArgs);
  if (!await sshAvailable()) {
    throw new Error("Cannot find `ssh` binary. Make sure that OpenSSH is installed.");
  }
  const serverDir = resolveServerDir(options.serverDir);
  const main = Deno.mainModule.startsWith("file://")
    ? decodeURIComponent(new URL(Deno.mainModule).pathname)
    : Deno.mainModule;
  const remote = remoteWorkerCommand(
    Deno.execPath(),
    resolvePath(Deno.cwd(), main),
    serverDir,
    options.workerArgs,
  ).map(shellQuote).join(" ");
  const io = options.showOutput ? "inherit" : "null";
  const children = hosts.map(({ host, port }) => {
    const args = [host, "-t", "-t", ...(port === null ? [] : ["-p", String(port)]), "--", remote];
    const child = new Deno.Command("ssh", { args, stdin: "null", stdout: io, stderr: io }).spawn();
    options.log("INFO", `Started worker process at \`${host}\``);
    return { host, child };
  });
  const onSigint = () => {
    options.log("INFO", "SIGINT received, closing workers");
    for (const { child } of children) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already ended
      }
    }
  };
  Deno.addSignalListener("SIGINT", onSigint);
  let failed = 0;
  try {
    await Promise.all(children.map(async ({ host, child }) => {
      const status = await child.status;
      if (status.success) options.log("INFO", `Worker at \`${host}\` has ended successfully`);
      else {
        failed++;
        options.log(
          "ERROR",
          `Worker at \`${host}\` has ended with an error: Worker exited with code ${status.code}`,
        );
      }
    }));
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
  options.log("INFO", "All workers have finished");
  if (failed > 0) throw new Error("Some workers have ended with an error");
  return 0;
}
