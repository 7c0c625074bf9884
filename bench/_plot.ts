/**
 * SVG plots of the comparison suite, drawn by Vega-Lite specifications compiled to Vega and
 * rendered headlessly (`renderer: "none"`, `toSVG()`): no browser, no canvas, no network.
 *
 * @module
 */
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import { fullMakespanMs, type RunRecord, type Workload } from "./_suite_table.ts";

/** Renders a Vega-Lite specification to an SVG document. */
export async function renderSvg(spec: vegaLite.TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The same colour for a tool in every plot, in the table's tool order. */
function toolColor(tools: string[]) {
  return { field: "tool", type: "nominal", scale: { domain: tools }, sort: tools } as const;
}

/**
 * Makespan per tool and workload: one panel per workload, a bar per tool, on a log scale
 * (SLURM's makespans are orders of magnitude above the others). Scaled-up makespans are drawn
 * lighter.
 */
export function makespanSpec(
  workloads: Workload[],
  records: RunRecord[],
  tools: string[],
): vegaLite.TopLevelSpec {
  const values = records.flatMap((r) => {
    const w = workloads.find((w) => w.id === r.workload);
    const ms = w ? fullMakespanMs(r, w) : undefined;
    if (!w || ms === undefined) return [];
    return [{
      tool: r.tool,
      workload: w.title,
      seconds: ms / 1000,
      measured: r.estimated ? "scaled up" : "measured",
    }];
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Makespan per tool and workload (log scale; lower is better)",
    data: { values },
    facet: {
      column: {
        field: "workload",
        type: "nominal",
        sort: workloads.map((w) => w.title),
        header: { title: null },
      },
    },
    spec: {
      width: 170,
      height: 220,
      mark: { type: "bar", tooltip: true },
      encoding: {
        x: { field: "tool", type: "nominal", sort: tools, axis: { labelAngle: -40 }, title: null },
        y: {
          field: "seconds",
          type: "quantitative",
          scale: { type: "log" },
          // Stacking would start each bar at 0, which a log scale cannot place.
          stack: null,
          title: "makespan (s)",
        },
        color: toolColor(tools),
        opacity: {
          field: "measured",
          type: "ordinal",
          sort: ["measured", "scaled up"],
          scale: { domain: ["measured", "scaled up"], range: [1, 0.45] },
        },
      },
    },
    // A panel shows only the tools that ran its workload (the netfs one has two).
    resolve: { scale: { x: "independent" } },
  };
}

/**
 * Tasks finished over time, a step line per tool, for one workload; a tool that ran only the
 * first tasks of the workload (SLURM) says so in its legend entry.
 */
export function progressSpec(
  w: Workload,
  records: RunRecord[],
  tools: string[],
): vegaLite.TopLevelSpec {
  const label = (r: RunRecord) => r.estimated ? `${r.tool} (first ${r.tasks})` : r.tool;
  const mine = records.filter((r) => r.workload === w.id && r.progress);
  const order = tools.flatMap((t) => mine.filter((r) => r.tool === t).map(label));
  const values = mine.flatMap((r) =>
    r.progress!.map(([ms, n]) => ({ tool: label(r), seconds: ms / 1000, finished: n }))
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Tasks finished over time: ${w.title}`,
    width: 560,
    height: 300,
    data: { values },
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "seconds", type: "quantitative", title: "seconds since the start" },
      y: { field: "finished", type: "quantitative", title: "tasks finished" },
      color: { ...toolColor(order), legend: { labelLimit: 300 } },
    },
  };
}
