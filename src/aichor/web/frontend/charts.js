// Charts drawn with uPlot: the usage page's cost per group (bars).
import uPlot from "uplot";

export function startCharts(root) {
  const element = root.querySelector("#usage-chart");
  if (element) usageChart(element);
  const metrics = root.querySelector("#metrics[data-metrics]");
  if (metrics) metricsCharts(metrics);
}

const COLOURS = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777"];
const METRICS = {
  cpu: (p) => p.cpu,
  memory: (p) => p.memory_bytes / 2 ** 30,
  gpu: (p) => p.gpu_util,
};

// The Metrics tab: one chart per resource, one line per replica; refreshed while it runs.
async function metricsCharts(section) {
  const plots = new Map();
  for (;;) {
    try {
      const response = await fetch(section.dataset.metrics);
      if (response.ok) draw(section, plots, await response.json());
    } catch (error) {
      // the next look retries
    }
    if (section.dataset.live === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

function draw(section, plots, metrics) {
  const series = metrics.series.filter((s) => s.points.length);
  section.querySelector(".metrics-empty").hidden = series.length > 0;
  section.querySelector(".charts").hidden = series.length === 0;
  if (!series.length) return;
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => Date.parse(p.at) / 1000)))].sort((a, b) => a - b);
  const charts = [...section.querySelectorAll(".chart[data-metric]")];
  for (const chart of charts) {
    // No GPU (or no NVML): the GPU chart would only say nothing, so it is left out.
    const value = METRICS[chart.dataset.metric];
    chart.closest("figure").hidden = !series.some((s) => s.points.some((p) => value(p) != null));
  }
  for (const chart of charts) {
    if (chart.closest("figure").hidden) continue;
    const value = METRICS[chart.dataset.metric];
    const columns = series.map((s) => {
      const at = new Map(s.points.map((p) => [Date.parse(p.at) / 1000, value(p)]));
      return times.map((t) => (at.has(t) ? at.get(t) : null));
    });
    const data = [times, ...columns];
    const existing = plots.get(chart);
    if (existing) {
      existing.setData(data);
      continue;
    }
    const options = {
      width: Math.max(chart.clientWidth, 300),
      height: 200,
      spanGaps: true,
      legend: { live: false },
      series: [{}, ...series.map((s, i) => ({ label: s.replica, stroke: COLOURS[i % COLOURS.length], width: 1.5 }))],
      scales: { y: { range: (_, min, max) => [0, Math.max(max, 0.1) * 1.1] } },
    };
    plots.set(chart, new uPlot(options, data, chart));
  }
}

function usageChart(element) {
  const labels = JSON.parse(element.dataset.labels);
  const cost = JSON.parse(element.dataset.cost);
  const xs = labels.map((_, index) => index);
  const bars = uPlot.paths.bars({ size: [0.6, 80] });
  const options = {
    width: Math.max(element.clientWidth, 320),
    height: 260,
    legend: { show: false },
    scales: {
      x: { time: false, range: [-0.5, labels.length - 0.5] },
      y: { range: (_, min, max) => [0, Math.max(max, 1) * 1.1] },
    },
    axes: [
      { values: (_, ticks) => ticks.map((t) => labels[t] ?? ""), splits: () => xs },
      { label: "cost", size: 60 },
    ],
    series: [{}, { label: "cost", fill: "#3b82f6aa", stroke: "#2563eb", paths: bars, points: { show: false } }],
  };
  new uPlot(options, [xs, cost], element);
}
