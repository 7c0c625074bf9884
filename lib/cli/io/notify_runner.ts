/**
 * The runner of `submit --wait|--progress --on-notify "cmd args"`: it calls the command once
 * per task notification (`hq task notify`, `notify.ts`), one at a time, with the message as
 * its last argument and `HQ_JOB_ID`, `HQ_TASK_ID` and `HQ_WORKER_ID` set, as HyperQueue does.
 *
 * @module
 */
import type { TaskNotification } from "../../client/io/mod.ts";
import { UsageError } from "../args.ts";
import { splitDirectiveWords } from "../directives.ts";
import type { Output } from "./output.ts";

/** Runs `--on-notify` for each notification in arrival order; `done()` waits for the last. */
export interface NotificationRunner {
  onNotify(n: TaskNotification): void;
  done(): Promise<void>;
}

/**
 * A runner of the `--on-notify` command line `command`.
 *
 * @throws {UsageError} When the command is empty.
 */
export function notificationRunner(command: string, out: Output): NotificationRunner {
  const words = splitDirectiveWords(command);
  if (words.length === 0) throw new UsageError("Invalid value '' for '--on-notify': empty command");
  let chain = Promise.resolve();
  const runOne = async (n: TaskNotification) => {
    try {
      const status = await new Deno.Command(words[0]!, {
        args: [...words.slice(1), n.message],
        env: {
          HQ_JOB_ID: String(n.jobId),
          HQ_TASK_ID: String(n.taskId),
          HQ_WORKER_ID: n.workerId === null ? "" : String(n.workerId),
        },
        stdin: "null",
      }).spawn().status;
      if (!status.success) {
        out.log("WARN", `Notification command ${words[0]} exited with code ${status.code}`);
      }
    } catch (e) {
      out.log("WARN", `Cannot run notification command ${words[0]}: ${(e as Error).message}`);
    }
  };
  return {
    onNotify(n) {
      chain = chain.then(() => runOne(n));
    },
    done: () => chain,
  };
}
