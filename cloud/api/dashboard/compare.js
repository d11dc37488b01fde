// Comparisons: each tile's figure against the previous period of the same length and the same
// weekdays a week earlier (both numbers and the % change), and those two as lines on the
// footfall chart. Runs after every render of app.js (body.dataset.renders), from /compare with
// the figures' own parameters (range, hours, staff).
"use strict";

const COMPARED_TILES = { footfall_in: "footfall-total-in", footfall_out: "footfall-total-out", visitors: "visitors-total" };
const BASELINES = [["previous", "previous period"], ["week_ago", "week before"]];
const compareState = { renders: 0 };

// "+12.5 %", "−40 %", "new" (nothing before: no percentage of nothing), "±0 %".
function changeText(value, change) {
  if (change.change_pct === null) return value > 0 ? "new" : "no change";
  if (change.change_pct === 0) return "±0 %";
  return `${change.change_pct > 0 ? "+" : "−"}${Math.abs(change.change_pct)} %`;
}

function changeClass(change) {
  if (change.difference > 0) return "up";
  return change.difference < 0 ? "down" : "same";
}

function renderCompareTiles(cmp) {
  for (const metric of cmp.metrics) {
    const value = document.getElementById(COMPARED_TILES[metric.metric]);
    const tile = value.closest(".tile");
    let box = tile.querySelector(".compare");
    if (!box) {
      box = document.createElement("span");
      box.className = "compare";
      value.after(box);
    }
    box.replaceChildren();
    for (const [key, label] of BASELINES) {
      const change = metric[key];
      const line = document.createElement("span");
      line.className = `change ${changeClass(change)}`;
      line.dataset.baseline = key;
      line.title = `${cmp[key].start.slice(0, 16)} – ${cmp[key].end.slice(0, 16)} (site time)`;
      line.textContent = `${label}: ${change.baseline} (${changeText(metric.value, change)})`;
      box.append(line);
    }
  }
}

// Baseline buckets line up with the range's by position (hour 3 of the day before under hour 3).
function baselineTrace(cmp, key, name, dash) {
  const n = cmp.current.buckets.length;
  const period = cmp[key];
  return {
    type: "scatter", mode: "lines", name, line: { dash, width: 2, color: "#1d2433" },
    x: cmp.current.buckets, y: cmp.current.buckets.map((_, i) => (i < period.footfall_in.length ? period.footfall_in[i] : null)),
    customdata: cmp.current.buckets.map((_, i) => (i < period.buckets.length ? period.buckets[i] : "")).slice(0, n),
    hovertemplate: "%{customdata}: %{y} in<extra>" + name + "</extra>",
  };
}

function renderCompareChart(cmp) {
  const chart = document.getElementById("footfall-chart");
  // app.js draws the chart anew on each render: drop lines of an earlier comparison first.
  const old = chart.data.map((t, i) => (t.meta === "compare" ? i : -1)).filter((i) => i >= 0);
  if (old.length) Plotly.deleteTraces(chart, old);
  const traces = [
    {
      type: "scatter", mode: "lines+markers", name: "in, all entrances", line: { width: 2, color: "#0a7d45" },
      x: cmp.current.buckets, y: cmp.current.footfall_in,
    },
    baselineTrace(cmp, "previous", "in, previous period", "dash"),
    baselineTrace(cmp, "week_ago", "in, a week earlier", "dot"),
  ].map((t) => ({ ...t, meta: "compare" }));
  Plotly.addTraces(chart, traces);
}

async function refreshComparison() {
  const params = { ...rangeParams(), ...hoursParams(), exclude_staff: document.getElementById("exclude-staff").checked };
  try {
    const cmp = await json(`/api/v1/sites/${state.site.id}/compare`, params);
    renderCompareTiles(cmp);
    renderCompareChart(cmp);
    compareState.renders += 1;
    document.body.dataset.compareRenders = compareState.renders;
  } catch (err) {
    showError(err.message);
  }
}

new MutationObserver(() => refreshComparison()).observe(document.body, { attributes: true, attributeFilter: ["data-renders"] });
