/**
 * Renders server views as HyperQueue's `cli` tables and `quiet` lines.
 *
 * @module
 */
import type {
  ExplainView,
  JobDetailView,
  JobInfoView,
  TaskStatsView,
  TaskView,
  WorkerView,
} from "../scheduler/views.ts";
import { renderTable, renderVerticalTable, truncateMiddle } from "./table.ts";
import { formatStateCounts, renderProgressBar } from "./progress.ts";
import { formatDuration } from "./duration.ts";

/** Job state derived as HyperQueue does (first matching rule wins). */
export function jobState(stats: TaskStatsView): string {
  if (stats.running > 0) return "RUNNING";
  if (stats.waiting > 0) return "WAITING";
  if (stats.failed > 0) return "FAILED";
  if (stats.aborted > 0) return "ABORTED";
  if (stats.canceled > 0) return "CANCELED";
  return "FINISHED";
}

/** `job list` table. */
export function renderJobList(
  jobs: readonly JobInfoView[],
  total: number,
  verbose = false,
): string {
  const rows = jobs.map((j) => {
    const row = [
      String(j.id),
      truncateMiddle(j.name, 50),
      jobState(j.task_stats),
      String(j.task_count),
    ];
    if (verbose) row.push(j.cancel_reason ?? "");
    return row;
  });
  const header = ["ID", "Name", "State", "Tasks"];
  if (verbose) header.push("Cancel Reason");
  const lines = [renderTable(header, rows)];
  if (jobs.length < total) {
    lines.push(`There are ${total} jobs in total. Use \`--all\` to display all jobs.`);
  }
  return lines.join("\n");
}

/** `job summary` table. */
export function renderJobSummary(summary: Record<string, number>): string {
  return renderTable(["Status", "Count"], Object.entries(summary).map(([k, v]) => [k, String(v)]));
}

/** Summary counts per job state in HyperQueue's order. */
export function jobSummary(jobs: readonly JobInfoView[]): Record<string, number> {
  const summary: Record<string, number> = {
    RUNNING: 0,
    WAITING: 0,
    FINISHED: 0,
    FAILED: 0,
    ABORTED: 0,
    CANCELED: 0,
  };
  for (const j of jobs) summary[jobState(j.task_stats)]!++;
  return summary;
}

function stdioText(v: string | null): string {
  return v === null ? "<none>" : v;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** `job info` table of one job. */
export function renderJobInfo(job: JobDetailView): string {
  const s = job.info.task_stats;
  const submit = job.submits[0];
  const stateText = job.info.task_count > 1
    ? `${renderProgressBar(s, job.info.task_count)} ${formatStateCounts(s)}`
    : jobState(s);
  const workers = new Set(job.tasks.filter((t) => t.worker !== undefined).map((t) => t.worker));
  const rows: [string, string][] = [
    ["ID", String(job.info.id)],
    ["Name", job.info.name],
    ["State", stateText],
  ];
  if (job.info.cancel_reason) rows.push(["Cancel Reason", job.info.cancel_reason]);
  rows.push(["Tasks", `${job.info.task_count}; Ids: ${submit?.ids ?? ""}`]);
  rows.push(["Workers", [...workers].sort().join(", ")]);
  if (submit) {
    const d = submit.array;
    rows.push(
      ["Resources", resourcesText(d)],
      ["Priority", String(d.priority)],
      ["Pin", d.pin_mode ?? "None"],
      ["Command", d.program.args.join(" ")],
      ["Stdout", stdioText(d.program.stdout)],
      ["Stderr", stdioText(d.program.stderr)],
      ["Environment", Object.entries(d.program.env).map(([k, v]) => `${k}=${v}`).join("\n")],
      ["Working directory", d.program.cwd],
      ["Task time limit", d.time_limit === null ? "None" : formatDuration(d.time_limit * 1000)],
      ["Crash limit", String(d.crash_limit)],
    );
  }
  const start = Date.parse(job.started_at);
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  rows.push(
    ["Submission date", iso(start)],
    ["Submission directory", job.submit_dir],
    ["Makespan", formatDuration(end - start)],
  );
  let text = renderVerticalTable(rows);
  const failed = job.tasks.filter((t) => t.state === "failed");
  if (failed.length > 0) {
    text += "\n" + renderTable(
      ["Task ID", "Worker", "Error"],
      failed.slice(0, 5).map((
        t,
      ) => [String(t.id), t.worker === undefined ? "" : String(t.worker), t.error ?? ""]),
    );
    if (failed.length > 5) text += `\n${failed.length - 5} more tasks failed`;
  }
  return text;
}

function taskMakespan(t: TaskView): string {
  if (!t.started_at) return "";
  const end = t.finished_at ? Date.parse(t.finished_at) : Date.now();
  return formatDuration(end - Date.parse(t.started_at));
}

/** `task list` table. */
export function renderTaskList(byJob: Record<string, TaskView[]>, verbose: boolean): string {
  const jobIds = Object.keys(byJob);
  const multi = jobIds.length > 1;
  const header = [...(multi ? ["Job ID"] : []), "Task ID", "State", "Worker", "Makespan", "Error"];
  const rows: string[][] = [];
  for (const jobId of jobIds) {
    for (const t of byJob[jobId]!) {
      const error = t.error ?? "";
      rows.push([
        ...(multi ? [jobId] : []),
        String(t.id),
        t.state.toUpperCase(),
        t.worker === undefined ? "" : String(t.worker),
        taskMakespan(t),
        verbose || error.length <= 16 ? error : error.slice(0, 16) + "...",
      ]);
    }
  }
  return renderTable(header, rows);
}

/** The Resources row of `job info` and `task info`: one block per variant. */
export function resourcesText(d: JobDetailView["submits"][number]["array"]): string {
  const blocks = d.resources.map((rq) => {
    const lines = rq.resources.map((r) => `${r.resource}: ${r.request}`);
    if (rq.n_nodes > 0) lines.unshift(`nodes: ${rq.n_nodes}`);
    if (rq.min_time > 0) lines.push(`Time request: ${formatDuration(rq.min_time * 1000)}`);
    return lines.join("\n");
  });
  if (blocks.length === 1) return blocks[0]!;
  return blocks.map((b, i) => `# Variant ${i + 1}\n${b}`).join("\n");
}

/** `task explain` table: per worker and variant, what blocks the task. */
export function renderExplain(e: ExplainView): string {
  const rows: string[][] = [];
  for (const w of e.workers) {
    for (const v of w.variants) {
      const variant = String(v.variant + 1);
      if (v.blockers.length === 0) {
        rows.push([String(w.worker_id), w.runnable ? "yes" : "no", variant, "", "", ""]);
      }
      for (const b of v.blockers) {
        rows.push([
          String(w.worker_id),
          w.runnable ? "yes" : "no",
          variant,
          b.type,
          b.provides,
          b.request,
        ]);
      }
    }
  }
  const head = `Task ${e.task_id} of job ${e.job_id} is ${e.state.toUpperCase()}; ` +
    `waiting dependencies: ${e.n_waiting_deps}/${e.n_deps}; ` +
    `runnable on ${e.workers.filter((w) => w.runnable).length} of ${e.workers.length} workers`;
  if (rows.length === 0) return `${head}\nNo worker is running.`;
  return head + "\n" +
    renderTable(["Worker Id", "Runnable", "Variant", "Type", "Provides", "Request"], rows);
}

/** `task info` table of one task. */
export function renderTaskInfo(job: JobDetailView, t: TaskView): string {
  const d = job.submits[0]!.array;
  return renderVerticalTable([
    ["Task ID", String(t.id)],
    ["State", t.state.toUpperCase()],
    ["Command", d.program.args.join(" ")],
    ["Environment", Object.entries(d.program.env).map(([k, v]) => `${k}=${v}`).join("\n")],
    ["Worker", t.worker === undefined ? "" : String(t.worker)],
    ["Start", t.started_at ?? ""],
    ["End", t.finished_at ?? ""],
    ["Makespan", taskMakespan(t)],
    ["Workdir", d.program.cwd],
    ["Stdout", stdioText(d.program.stdout)],
    ["Stderr", stdioText(d.program.stderr)],
    ["Time limit", d.time_limit === null ? "None" : formatDuration(d.time_limit * 1000)],
    ["Resources", resourcesText(d)],
    ["Priority", String(d.priority)],
    ["Pin", d.pin_mode ?? "None"],
    ["Crash limit", String(d.crash_limit)],
    ["Instance", String(t.instance)],
    ["Error", t.error ?? ""],
  ]);
}

const WORKER_STATE_TEXT: Record<string, string> = {
  running: "RUNNING",
  connectionLost: "CONNECTION LOST",
  heartbeatLost: "HEARTBEAT LOST",
  idleTimeout: "IDLE TIMEOUT",
  stopped: "STOPPED",
  serverStopped: "STOPPED",
  timeLimit: "TIME LIMIT REACHED",
};

/** Worker state as HyperQueue prints it. */
export function workerStateText(state: string): string {
  return WORKER_STATE_TEXT[state] ?? state.toUpperCase();
}

function resourcesSummary(w: WorkerView): string {
  return w.configuration.resources.resources.map((r) => {
    if (r.kind === "sum") return `${r.name} ${r.size}`;
    const groups = r.groups ?? [];
    const sizes = new Set(groups.map((g) => g.length));
    if (groups.length > 1 && sizes.size === 1) {
      return `${r.name} ${groups.length}x${groups[0]!.length}`;
    }
    return `${r.name} ${groups.flat().length}`;
  }).join("; ");
}

/** `worker list` table. */
export function renderWorkerList(workers: readonly WorkerView[]): string {
  return renderTable(
    ["ID", "State", "Hostname", "Resources", "Manager", "Manager Job ID"],
    workers.map((w) => [
      String(w.id),
      workerStateText(w.state),
      w.configuration.hostname,
      resourcesSummary(w),
      w.allocation?.manager ?? "None",
      w.allocation?.id ?? "N/A",
    ]),
  );
}

/** `worker info` table. */
export function renderWorkerInfo(w: WorkerView): string {
  const c = w.configuration;
  return renderVerticalTable([
    ["Worker", String(w.id)],
    ["State", workerStateText(w.state)],
    ["Hostname", c.hostname],
    ["Started", w.started],
    ["Data provider", "files"],
    ["Working directory", c.work_dir],
    ["Heartbeat", formatDuration(c.heartbeat_interval * 1000)],
    ["Idle timeout", c.idle_timeout === null ? "None" : formatDuration(c.idle_timeout * 1000)],
    ["Overview interval", "None"],
    ["Resources", resourcesSummary(w)],
    ["Time Limit", c.time_limit === null ? "None" : formatDuration(c.time_limit * 1000)],
    ["Process pid", String(c.process_pid)],
    ["Group", c.group],
    ["Manager", w.allocation?.manager ?? "None"],
    ["Manager Job ID", w.allocation?.id ?? "N/A"],
    ["Last task started", w.last_task_started ?? "None"],
    [
      "Runtime Info",
      `running tasks: ${w.runtime_info.running_tasks}; queued: ${w.runtime_info.queued_tasks}`,
    ],
  ]);
}
