// deno-lint-ignore-file no-console
/**
 * `hq server ...`: start (foreground), stop, info, wait.
 *
 * @module
 */
import { Command } from "commander";
import { globals, printJson, runCli, UsageError, withGlobals } from "./lib/cli/common.ts";
import { parseDuration } from "./lib/cli/duration.ts";
import { renderVerticalTable } from "./lib/cli/table.ts";
import { connectInstance, resolveServerDir } from "./lib/fsproto/server_dir.ts";
import { runServer } from "./lib/server/run.ts";
import { HqClient } from "./lib/client/client.ts";

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => resolve());
  });
}

/** Builds the `server` command tree. */
export function serverCommand(): Command {
  const server = new Command("server").description("manage the server");
  withGlobals(server.command("start").description("start the server in the foreground"))
    .option("--poll-only", "never watch files; poll (for network filesystems)")
    .option("--max-poll <duration>", "longest poll interval", "250ms")
    .option("--prefill <n>", "tasks queued on each worker beyond what fits", "40")
    .option("--idle-timeout <duration>", "idle timeout for workers that set none")
    .option("--host <host>", "not needed: this server uses no network")
    .option("--client-port <port>", "not needed: this server uses no network")
    .option("--worker-port <port>", "not needed: this server uses no network")
    .option(
      "--journal <path>",
      "accepted for compatibility; the journal lives in the server directory",
    )
    .action(async (opts, cmd: Command) => {
      const g = globals(cmd);
      for (const flag of ["host", "clientPort", "workerPort"]) {
        if (opts[flag] !== undefined) {
          console.error(
            `[WARN] --${
              flag.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())
            } is not needed: this server uses no network`,
          );
        }
      }
      const prefill = Number(opts.prefill);
      if (!Number.isInteger(prefill) || prefill < 0) {
        throw new UsageError(
          `Invalid value "${opts.prefill}" for --prefill: expected an integer >= 0`,
        );
      }
      await runServer(
        {
          serverDir: resolveServerDir(g.serverDir),
          pollOnly: opts.pollOnly ? true : undefined,
          maxPollMs: parseDuration(opts.maxPoll),
          prefillMax: prefill,
          idleTimeoutMs: opts.idleTimeout ? parseDuration(opts.idleTimeout) : null,
          log: (line) => console.error(line),
          stopSignal: stopSignal(),
        } as Parameters<typeof runServer>[0],
      );
    });
  withGlobals(server.command("stop").description("stop the server")).action(
    async (_o, cmd: Command) => {
      const client = await HqClient.connect(resolveServerDir(globals(cmd).serverDir));
      try {
        await client.stopServer();
      } finally {
        await client.close();
      }
      if (globals(cmd).outputMode === "json") printJson({});
    },
  );
  withGlobals(server.command("info").description("show the running server")).action(
    async (_o, cmd: Command) => {
      const g = globals(cmd);
      const dir = resolveServerDir(g.serverDir);
      const { identity } = await connectInstance(dir);
      if (g.outputMode === "json") {
        printJson({
          server_dir: dir,
          server_uid: identity.serverUid,
          worker_host: identity.host,
          client_host: identity.host,
          client_port: null,
          worker_port: null,
          pid: identity.pid,
          start_date: new Date(identity.startedAt).toISOString(),
          version: identity.version,
          journal_path: identity.journal,
        });
      } else if (g.outputMode === "quiet") {
        console.log(dir);
      } else {
        console.log(renderVerticalTable([
          ["Server directory", dir],
          ["Server UID", identity.serverUid],
          ["Host", identity.host],
          ["Pid", String(identity.pid)],
          ["Transport", "files (no ports)"],
          ["Version", identity.version],
          ["Start date", new Date(identity.startedAt).toISOString()],
          ["Journal path", identity.journal],
        ]));
      }
    },
  );
  withGlobals(server.command("wait").description("wait until a server runs"))
    .option("--timeout <duration>", "how long to wait", "5m")
    .action(async (opts, cmd: Command) => {
      const dir = resolveServerDir(globals(cmd).serverDir);
      const deadline = Date.now() + parseDuration(opts.timeout);
      for (;;) {
        try {
          await connectInstance(dir);
          return;
        } catch (e) {
          if (Date.now() >= deadline) throw e;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    });
  return server;
}

/** Entry point: `deno run -A server.ts <start|stop|info|wait> ...`. */
export function main(argv: string[]): Promise<number> {
  return runCli(serverCommand(), argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
