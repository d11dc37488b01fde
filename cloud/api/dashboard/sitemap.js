// Site map: the selected floor in metres as SVG, from /map. Layers bottom to top: the floor's plan
// image, heatmap cells (person-seconds over the range), cameras' fields of view, zones, exits and
// lines with an arrow to their `in` side; a colour legend below. Redrawn after every render of
// app.js (body.dataset.renders) and when the floor changes; body.dataset.mapRenders counts draws.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
// Inferno, as the heatmap PNG (cloud/api/heatmap_image.py): dark for little, yellow for most.
const INFERNO = ["#000004", "#320a5e", "#781c6d", "#bc3754", "#ed6925", "#fbb61a", "#fcffa4"];
const LEGEND_TICKS = [0, 0.25, 0.5, 0.75, 1];
const mapState = { renders: 0, planUrl: null };

function svgEl(name, attrs = {}, text = "") {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text) el.textContent = text;
  return el;
}

function mix(a, b, t) {
  const pa = [1, 3, 5].map((i) => parseInt(a.slice(i, i + 2), 16));
  const pb = [1, 3, 5].map((i) => parseInt(b.slice(i, i + 2), 16));
  return `rgb(${pa.map((v, i) => Math.round(v + (pb[i] - v) * t)).join(",")})`;
}

// Square-root scaled like the PNG, so quiet cells still show beside the busiest.
function level(seconds, peak) { return peak > 0 ? Math.sqrt(seconds / peak) : 0; }

function colour(t) {
  const x = Math.min(Math.max(t, 0), 1) * (INFERNO.length - 1);
  const i = Math.min(Math.floor(x), INFERNO.length - 2);
  return mix(INFERNO[i], INFERNO[i + 1], x - i);
}

function points(polygon) { return polygon.map(([x, y]) => `${x},${y}`).join(" "); }

function centroid(polygon) {
  const n = polygon.length;
  return [polygon.reduce((s, p) => s + p[0], 0) / n, polygon.reduce((s, p) => s + p[1], 0) / n];
}

async function planLayer(map) {
  const g = svgEl("g", { id: "map-plan" });
  if (!map.plan) return g;
  const png = await (await api(`/api/v1/sites/${map.site_id}/floors/${map.floor_id}/plan`)).blob();
  if (mapState.planUrl) URL.revokeObjectURL(mapState.planUrl);
  mapState.planUrl = URL.createObjectURL(png);
  g.append(svgEl("image", {
    href: mapState.planUrl, x: map.plan.origin[0], y: map.plan.origin[1],
    width: map.plan.width_m, height: map.plan.height_m, preserveAspectRatio: "none",
  }));
  return g;
}

function heatLayer(grid) {
  const g = svgEl("g", { id: "map-heat", opacity: 0.75 });
  grid.seconds.forEach((row, y) => row.forEach((s, x) => {
    if (s <= 0) return;
    const cell = svgEl("rect", {
      x: grid.origin[0] + x * grid.cell_m, y: grid.origin[1] + y * grid.cell_m,
      width: grid.cell_m, height: grid.cell_m, fill: colour(level(s, grid.max_seconds)),
    });
    cell.append(svgEl("title", {}, `${Math.round(s)} person-seconds`));
    g.append(cell);
  }));
  return g;
}

function regionLayer(id, regions, cls, font) {
  const g = svgEl("g", { id });
  for (const r of regions) {
    if (r.polygon.length < 3) continue;
    const shape = svgEl("polygon", { points: points(r.polygon), class: cls, "data-id": r.id });
    shape.append(svgEl("title", {}, `${r.id} (${r.camera})`));
    const [cx, cy] = centroid(r.polygon);
    g.append(shape, svgEl("text", { x: cx, y: cy, class: `${cls}-label`, "font-size": font }, r.id));
  }
  return g;
}

function cameraLayer(cameras) {
  const g = svgEl("g", { id: "map-cameras" });
  for (const c of cameras) {
    if (c.view.length < 3) continue;
    const shape = svgEl("polygon", { points: points(c.view), class: "map-fov", "data-id": c.id });
    shape.append(svgEl("title", {}, `${c.id}: ${c.frame_width}×${c.frame_height} px${c.frame_known ? "" : " (inferred)"}`));
    g.append(shape);
  }
  return g;
}

function lineLayer(lines, font, arrow) {
  const g = svgEl("g", { id: "map-lines" });
  for (const ln of lines) {
    const mid = [(ln.start[0] + ln.end[0]) / 2, (ln.start[1] + ln.end[1]) / 2];
    g.append(
      svgEl("line", { x1: ln.start[0], y1: ln.start[1], x2: ln.end[0], y2: ln.end[1], class: "map-line", "data-id": ln.id }),
      svgEl("line", {
        x1: mid[0], y1: mid[1], x2: mid[0] + ln.inward[0] * arrow, y2: mid[1] + ln.inward[1] * arrow,
        class: "map-arrow", "marker-end": "url(#map-arrowhead)",
      }),
      svgEl("text", { x: ln.end[0], y: ln.end[1], class: "map-line-label", "font-size": font }, `${ln.id} ↦ in`),
    );
  }
  return g;
}

function renderLegend(grid) {
  const legend = document.getElementById("sitemap-legend");
  legend.replaceChildren();
  const defs = svgEl("defs");
  const gradient = svgEl("linearGradient", { id: "map-legend-gradient" });
  INFERNO.forEach((c, i) => gradient.append(svgEl("stop", { offset: i / (INFERNO.length - 1), "stop-color": c })));
  defs.append(gradient);
  legend.append(defs, svgEl("rect", { x: 10, y: 18, width: 300, height: 12, fill: "url(#map-legend-gradient)" }));
  legend.append(svgEl("text", { x: 10, y: 12, class: "legend-title" }, `person-seconds per ${grid.cell_m} m cell`));
  for (const t of LEGEND_TICKS) {
    // The colour scale is square-root: the value at a tick is the peak times its position squared.
    legend.append(
      svgEl("line", { x1: 10 + t * 300, y1: 30, x2: 10 + t * 300, y2: 35, stroke: "#1d2433" }),
      svgEl("text", { x: 10 + t * 300, y: 47, "text-anchor": "middle", class: "legend-tick" }, String(Math.round(grid.max_seconds * t * t))),
    );
  }
}

async function renderSiteMap() {
  const floor = document.getElementById("floor").value;
  const map = await json(`/api/v1/sites/${state.site.id}/map`, { ...rangeParams(), floor });
  const [xmin, ymin, xmax, ymax] = map.bounds;
  const span = Math.max(xmax - xmin, ymax - ymin);
  const font = span / 45;
  const svg = document.getElementById("sitemap");
  svg.setAttribute("viewBox", `${xmin} ${ymin} ${xmax - xmin} ${ymax - ymin}`);
  const defs = svgEl("defs");
  const clip = svgEl("clipPath", { id: "map-bounds" });
  clip.append(svgEl("rect", { x: xmin, y: ymin, width: xmax - xmin, height: ymax - ymin }));
  const marker = svgEl("marker", {
    id: "map-arrowhead", viewBox: "0 0 10 10", refX: 5, refY: 5, markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse",
  });
  marker.append(svgEl("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#c77700" }));
  defs.append(clip, marker);
  const layers = svgEl("g", { "clip-path": "url(#map-bounds)" });
  layers.append(
    await planLayer(map),
    heatLayer(map.heatmap),
    cameraLayer(map.cameras),
    regionLayer("map-zones", map.zones, "map-zone", font),
    regionLayer("map-exits", map.exits, "map-exit", font),
    lineLayer(map.lines, font, span / 20),
  );
  svg.replaceChildren(defs, svgEl("rect", { x: xmin, y: ymin, width: xmax - xmin, height: ymax - ymin, class: "map-floor" }), layers);
  renderLegend(map.heatmap);
  const cams = map.cameras.filter((c) => c.view.length >= 3).map((c) => c.id);
  document.getElementById("sitemap-note").textContent =
    `${(xmax - xmin).toFixed(1)} × ${(ymax - ymin).toFixed(1)} m${map.plan ? " over the floor plan" : ""}; ` +
    `cameras ${cams.join(", ") || "none"}; ${Math.round(map.heatmap.total_seconds)} person-seconds in the range`;
  mapState.renders += 1;
  document.body.dataset.mapRenders = mapState.renders;
}

function drawSiteMap() { renderSiteMap().catch((e) => showError(e.message)); }

new MutationObserver(drawSiteMap).observe(document.body, { attributes: true, attributeFilter: ["data-renders"] });
document.getElementById("floor").addEventListener("change", drawSiteMap);
