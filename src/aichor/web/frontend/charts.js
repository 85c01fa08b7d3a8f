// Charts drawn with uPlot: the usage page's cost per group (bars).
import uPlot from "uplot";

export function startCharts(root) {
  const element = root.querySelector("#usage-chart");
  if (element) usageChart(element);
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
