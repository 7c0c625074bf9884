// deno-lint-ignore-file no-console
/**
 * Bounded growth: a server's resident memory and its instance directory's
 * file count before and after 1,000 client commands (each a new client, as
 * `hq job list` is) and 100 worker start/stop cycles. Both must stay flat.
 *
 * Env: HQ_BENCH_GROWTH_CLIENTS (default 1000), HQ_BENCH_GROWTH_CYCLES (default 100).
 *
 * @module
 */
import { HqClient } from "../mod.ts";
import {
  connect,
  DENO,
  HQ_TS,
  mdTable,
  sleep,
  spawnProc,
  startWorker,
  waitNewWorker,
} from "./_util.ts";

const CLIENTS = Number(Deno.env.get("HQ_BENCH_GROWTH_CLIENTS") ?? "1000");
const CYCLES = Number(Deno.env.get("HQ_BENCH_GROWTH_CYCLES") ?? "100");

/** V8's heap size after the last garbage collection, MiB, from the server's `--trace-gc` lines. */
function heapAfterGcMiB(log: string): number {
  let last = NaN;
  for (const m of log.matchAll(/\(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/g)) last = Number(m[2]);
  return last;
}

/** Resident memory of a process, MiB (from `/proc`). */
function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function listFiles(dir: string, out: string[] = []): string[] {
  for (const e of Deno.readDirSync(dir)) {
    out.push(`${dir}/${e.name}`);
    if (e.isDirectory) listFiles(`${dir}/${e.name}`, out);
  }
  return out;
}

/** Runs the growth bench in `root`; returns its report section. */
export async function benchGrowth(root: string, log: (m: string) => void): Promise<string> {
  const sd = `${root}/sd`;
  // V8 reports each collection, and with --gc-global each is a full one: the heap after it is
  // what the server really keeps. The report goes through C stdio, which a pipe buffers to the
  // end unless stdbuf says otherwise.
  const server = spawnProc("growth server", "stdbuf", [
    "-oL",
    DENO,
    "run",
    "-A",
    "--v8-flags=--trace-gc,--gc-global",
    HQ_TS,
    "server",
    "start",
    "--server-dir",
    sd,
  ]);
  const client = await connect(sd, server);
  const instance = `${sd}/001`;
  const jobLists = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const c = await HqClient.connect(sd);
      await c.listJobs();
      await c.close();
    }
  };
  // Warm up (JIT, first allocations), then settle.
  await jobLists(100);
  await sleep(1500);
  const rows: string[][] = [];
  const startFiles = new Set(listFiles(instance));
  const sample = (phase: string) => {
    const row = [
      phase,
      heapAfterGcMiB(server.log).toFixed(1),
      rssMiB(server.pid).toFixed(1),
      String(listFiles(instance).length),
    ];
    rows.push(row);
    log(`growth ${phase}: ${row[1]} MiB heap after GC, ${row[2]} MiB RSS, ${row[3]} files`);
  };
  sample("start");
  // Each kind of load twice: growth that goes on in the second half is a leak, growth that
  // stops is the heap settling.
  for (const half of [1, 2]) {
    await jobLists(CLIENTS / 2);
    await sleep(1500);
    sample(`after ${(CLIENTS / 2) * half} clients`);
  }
  const known = new Set<number>();
  for (const half of [1, 2]) {
    for (let i = 0; i < CYCLES / 2; i++) {
      const w = startWorker(`growth worker ${half}.${i}`, sd, `${root}/work`, ["--cpus", "1"]);
      const { id } = await waitNewWorker(client, known, w);
      known.add(id);
      await client.stopWorkers(String(id));
      await w.status;
    }
    await sleep(1500);
    sample(`after ${(CYCLES / 2) * half} worker cycles`);
  }
  const added = listFiles(instance).filter((f) => !startFiles.has(f)).map((f) =>
    f.slice(instance.length + 1)
  );
  await client.close();
  await server.stop(5000);
  const first = rows[0];
  const last = rows[rows.length - 1];
  const ratio = (a: string, b: string) => (Number(b) / Number(a)).toFixed(2);
  return [
    `### Bounded growth (server RSS and instance files)\n`,
    mdTable(
      ["phase", "server heap after GC (MiB)", "server RSS (MiB)", "files in the instance dir"],
      rows,
    ),
    `\nEnd / start: heap ${ratio(first![1]!, last![1]!)}x, RSS ${
      ratio(first![2]!, last![2]!)
    }x, files ${
      ratio(first![3]!, last![3]!)
    }x (one new worker record per cycle is kept for \`worker list --all\`).`,
    added.length === 0 ? "" : `New files at the end: ${added.slice(0, 12).join(", ")}`,
  ].join("\n");
}

if (import.meta.main) {
  const root = await Deno.makeTempDir({ prefix: "hq-bench-growth-" });
  try {
    console.log(await benchGrowth(root, (m) => console.error(`[bench] ${m}`)));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
