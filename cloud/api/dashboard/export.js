// "Download CSV" per panel: the panel's report as CSV (format=csv) for the range, hours and staff
// choice on screen. The API key travels in a header, so the link fetches the file and hands the
// browser a blob; its href is the same request, for setups that need no key.
"use strict";

// panel: an element of the panel whose heading gets the link; params: the report's query.
const EXPORTS = [
  { report: "visitors", panel: "visitors-total", path: () => "visitors", params: () => countedParams() },
  { report: "footfall", panel: "footfall-chart", path: () => "footfall", params: () => countedParams() },
  { report: "dwell", panel: "dwell-chart", path: () => "dwell", params: () => countedParams() },
  {
    report: "occupancy", panel: "occupancy-tiles", path: () => "occupancy/history",
    params: () => ({ ...rangeParams(), exclude_staff: staffExcluded() }),
  },
  {
    report: "capacity-alerts", panel: "occupancy-tiles", path: () => "occupancy/alerts", label: "Capacity alerts CSV",
    params: () => { const r = rangeParams(); return { start: r.start, end: r.end }; },
  },
  {
    report: "heatmap", panel: "heatmap-img", path: () => `floors/${document.getElementById("floor").value}/heatmap`,
    params: () => rangeParams(),
  },
  { report: "transitions", panel: "transitions-table", path: () => "transitions", params: () => rangeParams() },
  { report: "cameras", panel: "camera-table", path: () => "cameras", params: () => ({ outage_window_s: OUTAGE_WINDOW_S }) },
];
// What was downloaded, newest last (the dashboard tests read it).
const downloads = [];

function staffExcluded() {
  return document.getElementById("exclude-staff").checked;
}

function countedParams() {
  return { ...rangeParams(), ...hoursParams(), exclude_staff: staffExcluded() };
}

function exportUrl(spec) {
  const url = new URL(`/api/v1/sites/${state.site.id}/${spec.path()}`, location.origin);
  for (const [k, v] of Object.entries({ ...spec.params(), format: "csv" })) url.searchParams.set(k, v);
  return url;
}

async function download(spec, link) {
  const url = exportUrl(spec);
  const response = await api(url.pathname, Object.fromEntries(url.searchParams));
  const blob = await response.blob();
  const filename = (/filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "") || [])[1]
    || `${spec.report}.csv`;
  const text = await blob.text();
  const save = document.createElement("a");
  save.href = URL.createObjectURL(blob);
  save.download = filename;
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(save.href), 60000);
  downloads.push({ report: spec.report, filename, header: text.split("\r\n", 1)[0], rows: text.split("\r\n").length - 2 });
  link.dataset.downloads = String(Number(link.dataset.downloads || "0") + 1);
}

function addExportLinks() {
  for (const spec of EXPORTS) {
    // The panel's box: the tile, or the nearest enclosing element with a heading of its own.
    let box = document.getElementById(spec.panel);
    while (!box.classList.contains("tile") && !box.querySelector(":scope > h2")) box = box.parentElement;
    const link = document.createElement("a");
    link.className = "csv-link";
    link.dataset.report = spec.report;
    link.textContent = spec.label || "Download CSV";
    link.href = "#";
    // The href is filled in when the pointer reaches the link, so it carries what is on screen now.
    link.addEventListener("pointerenter", () => { if (state.site) link.href = exportUrl(spec).toString(); });
    link.addEventListener("click", (e) => {
      e.preventDefault();
      download(spec, link).catch((err) => showError(err.message));
    });
    (box.querySelector(":scope > h2") || box).append(link);
  }
}

addExportLinks();
