// deno-lint-ignore-file no-console
/**
 * The demo: a temporary server directory, a server, one worker and a 20-task
 * array; prints the job table and shuts everything down cleanly.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const HQ = fileURLToPath(new URL("../hq.ts", import.meta.url));
const root = await Deno.makeTempDir({ prefix: "hq-demo-" });
const serverDir = `${root}/server`;
const work = `${root}/work`;
await Deno.mkdir(work);
const started: Deno.ChildProcess[] = [];

function spawn(args: string[]): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", HQ, ...args],
    env: { HQ_SERVER_DIR: serverDir },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  started.push(child);
  return child;
}

async function hq(...args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", HQ, ...args],
    env: { HQ_SERVER_DIR: serverDir },
    cwd: work,
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`hq ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

try {
  console.log(`Server directory: ${serverDir}`);
  spawn(["server", "start"]);
  await hq("server", "wait", "--timeout", "30s");
  spawn(["worker", "start", "--cpus", "2"]);
  await hq("worker", "wait", "1");
  console.log(
    (await hq(
      "submit",
      "--array",
      "1-20",
      "--",
      "bash",
      "-c",
      "echo task $HQ_TASK_ID on cpus $HQ_CPUS",
    )).trim(),
  );
  console.log((await hq("job", "wait", "last")).trim());
  console.log((await hq("job", "list", "--all")).trim());
  console.log(`Output of task 7: ${(await Deno.readTextFile(`${work}/job-1/7.stdout`)).trim()}`);
  await hq("server", "stop");
  for (const child of started) await child.status;
  console.log("Demo finished: server and worker stopped cleanly.");
} finally {
  for (const child of started) {
    try {
      child.kill("SIGKILL");
    } catch { /* already ended */ }
  }
  await Promise.all(started.map((c) => c.status));
  await Deno.remove(root, { recursive: true });
}
