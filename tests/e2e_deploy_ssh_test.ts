/**
 * `hq worker deploy-ssh`: workers started over a real ssh login (the
 * loopback sshd of `tools/netfs.sh`) join the server through the shared
 * server directory; the command waits for them and reports each end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, HQ_TS, waitFor } from "./_harness.ts";
import { requirement, sshLogin } from "./_env.ts";
import { parseHostfile, remoteWorkerCommand, shellQuote } from "../lib/worker/io/deploy_ssh.ts";

const login = sshLogin();
const req = requirement(login !== undefined, "a loopback ssh login (tools/netfs.sh start)");

Deno.test("parseHostfile() reads host and host:port lines", () => {
  assert.deepEqual(parseHostfile("cn1\n\n# comment\ncn2:2222\n  cn3  \n"), [
    { host: "cn1", port: null },
    { host: "cn2", port: 2222 },
    { host: "cn3", port: null },
  ]);
  assert.throws(() => parseHostfile("cn1:x\n"), /Cannot parse port from cn1:x/);
  assert.throws(() => parseHostfile(":22\n"), /The provided hostname is empty/);
});

Deno.test("remoteWorkerCommand() runs the same entry point against the same server dir", () => {
  assert.deepEqual(
    remoteWorkerCommand("/bin/deno", "/repo/hq.ts", "/sd", ["--cpus", "2"]),
    [
      "/bin/deno",
      "run",
      "-A",
      "/repo/hq.ts",
      "worker",
      "start",
      "--server-dir",
      "/sd",
      "--cpus",
      "2",
    ],
  );
  assert.deepEqual(
    remoteWorkerCommand("/bin/deno", "/repo/worker.ts", "/sd", ["--server-dir=/x"]),
    ["/bin/deno", "run", "-A", "/repo/worker.ts", "start", "--server-dir=/x"],
  );
  assert.equal(shellQuote("a b'c"), `'a b'\\''c'`);
  assert.equal(shellQuote("--cpus=2"), "--cpus=2");
});

Deno.test({
  name: "e2e: worker deploy-ssh starts a worker per host over ssh and waits for them",
  ignore: req.ignore,
  fn: async () => {
    req.check();
    const { port, key, ssh } = login!;
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      // ssh reads its config from the passwd home, not $HOME: a wrapper adds -F.
      const bin = join(c.root, "bin");
      await Deno.mkdir(bin);
      const config = join(c.root, "ssh_config");
      await Deno.writeTextFile(
        config,
        [
          "Host hq-node-a hq-node-b",
          "  HostName 127.0.0.1",
          `  Port ${port}`,
          "  User root",
          `  IdentityFile ${key}`,
          "  IdentitiesOnly yes",
          "  StrictHostKeyChecking no",
          "  UserKnownHostsFile /dev/null",
          "  BatchMode yes",
          "  LogLevel ERROR",
          "",
        ].join("\n"),
      );
      await Deno.writeTextFile(join(bin, "ssh"), `#!/bin/sh\nexec ${ssh} -F ${config} "$@"\n`);
      await Deno.chmod(join(bin, "ssh"), 0o755);
      const hostfile = join(c.root, "hosts");
      await Deno.writeTextFile(hostfile, `hq-node-a\nhq-node-b:${port}\n`);
      const env = { PATH: `${bin}:${Deno.env.get("PATH")}` };

      c.startServer();
      await c.waitServerReady();
      const deploy = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          HQ_TS,
          "worker",
          "deploy-ssh",
          "--server-dir",
          c.serverDir,
          hostfile,
          "--cpus",
          "1",
          "--heartbeat",
          "1s",
        ],
        cwd: c.workDir,
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      try {
        await c.waitWorkers(2, 30000, "two workers deployed over ssh");
        const workers = await c.json<{ configuration: { resources: { resources: unknown[] } } }[]>(
          ["worker", "list"],
        );
        assert.equal(workers.length, 2);
        await c.submit(["--array", "1-4", "--", "true"]);
        await waitFor(() => c.jobFinished(1), 20000, "job on the deployed workers");
        const stop = await c.hq(["worker", "stop", "all"]);
        assert.equal(stop.code, 0, stop.stderr);
        const out = await deploy.output();
        const log = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, log);
        assert.match(log, /INFO Started worker process at `hq-node-a`/);
        assert.match(log, /INFO Started worker process at `hq-node-b`/);
        assert.match(log, /INFO Worker at `hq-node-a` has ended successfully/);
        assert.match(log, /INFO Worker at `hq-node-b` has ended successfully/);
        assert.match(log, /INFO All workers have finished/);
      } finally {
        try {
          deploy.kill("SIGKILL");
        } catch { /* ended */ }
      }

      // An unknown host: ssh fails, the command says so and exits 1.
      await Deno.writeTextFile(hostfile, "hq-no-such-host.invalid\n");
      const bad = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", HQ_TS, "worker", "deploy-ssh", hostfile, "--server-dir", c.serverDir],
        cwd: c.workDir,
        env,
        stdin: "null",
      }).output();
      const badLog = new TextDecoder().decode(bad.stderr);
      assert.equal(bad.code, 1, badLog);
      assert.match(
        badLog,
        /ERROR Worker at `hq-no-such-host.invalid` has ended with an error: Worker exited with code 255/,
      );
      assert.match(badLog, /Some workers have ended with an error/);
    });
  },
});

Deno.test("e2e: worker deploy-ssh checks the worker arguments before connecting", async () => {
  await using c = await Cluster.create();
  const hostfile = join(c.root, "hosts");
  await Deno.writeTextFile(hostfile, "somewhere\n");
  const r = await c.hq(["worker", "deploy-ssh", hostfile, "--heartbeat", "5q"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: invalid value '5q' for '--heartbeat <HEARTBEAT>'/);
  const missing = await c.hq(["worker", "deploy-ssh", join(c.root, "nope")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Cannot load hostfile from /);
});
