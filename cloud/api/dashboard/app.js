// Mallflow dashboard: one site, one date range; every number comes from /api/v1.
"use strict";

// openOutages: cameras whose outage list the operator opened; they stay open across refreshes.
// liveUpdates: occupancy events rendered (tests wait on it, as on renders).
const state = {
  key: null, site: null, sites: [], stream: null, renders: 0, liveUpdates: 0, openOutages: new Set(),
};
// Camera outages are those of the last 24 h (the camera table's header says so), whatever the date range.
const OUTAGE_WINDOW_S = 86400;
// cloud/analytics/camera_health.py MAX_OUTAGES: the API lists at most this many per camera, the latest.
const MAX_LISTED_OUTAGES = 20;

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("key")) {
    sessionStorage.setItem("mallflow-key", params.get("key"));
  }
  state.key = sessionStorage.getItem("mallflow-key");
  // Keep the key out of the address bar (and so out of screenshots and history).
  const site = params.get("site");
  history.replaceState(null, "", location.pathname + (site ? `#site=${encodeURIComponent(site)}` : ""));
  return site;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const headers = state.key ? { "X-API-Key": state.key } : {};
  const response = await fetch(url, { headers });
  if (response.status === 401 || response.status === 403) {
    document.getElementById("key-form").hidden = false;
    throw new Error("an API key with read access is needed");
  }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail; } catch (_) { /* not JSON */ }
    throw new Error(`${path}: ${detail}`);
  }
  return response;
}

const json = async (path, params) => (await api(path, params)).json();

function isoDate(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function rangeParams() {
  const from = document.getElementById("date-from").value;
  const to = document.getElementById("date-to").value;
  // The "to" day is included: the range ends at the next local midnight.
  const end = new Date(`${to}T00:00:00`);
  end.setDate(end.getDate() + 1);
  return { start: from, end: isoDate(end), bucket: document.getElementById("bucket").value };
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function renderFootfall(ff) {
  document.getElementById("footfall-total-in").textContent = ff.total_in;
  document.getElementById("footfall-total-out").textContent = ff.total_out;
  const traces = ff.series.map((s) => ({
    type: "bar", name: `${s.line_id} ${s.direction}`, x: ff.buckets, y: s.counts,
  }));
  // Within opening hours: what came outside them, all lines together, in grey beside.
  const outside = ff.outside_hours;
  if (outside) {
    for (const [direction, color] of [["in", "#8d94a1"], ["out", "#c3c7cf"]]) {
      const series = outside.series.filter((s) => s.direction === direction);
      traces.push({
        type: "bar", name: `outside opening hours ${direction}`, x: ff.buckets, marker: { color },
        y: ff.buckets.map((_, i) => series.reduce((n, s) => n + s.counts[i], 0)),
      });
    }
  }
  // The stretches the site was open, shaded; a day's bar is too coarse to show them.
  const shapes = ff.bucket === "day" ? [] : ff.open_periods.map((p) => ({
    type: "rect", xref: "x", yref: "paper", x0: p.start, x1: p.end, y0: 0, y1: 1,
    fillcolor: "#0a7d45", opacity: 0.08, line: { width: 0 }, layer: "below",
  }));
  Plotly.react("footfall-chart", traces, {
    barmode: "group", margin: { t: 10, r: 10, b: 40, l: 40 }, legend: { orientation: "h" },
    yaxis: { title: "crossings" }, shapes,
  }, { displaylogo: false, responsive: true });
}

const WEEKDAY_NAMES = {
  monday: "Mon", tuesday: "Tue", wednesday: "Wed", thursday: "Thu", friday: "Fri", saturday: "Sat", sunday: "Sun",
};

function dayHours(periods) {
  return periods.length ? periods.join(", ") : "closed";
}

// "Mon–Fri 10:00-21:00 · Sat 10:00-01:30 · Sun closed": runs of days with the same hours.
function weeklySummary(weekly) {
  const runs = [];
  for (const [day, periods] of Object.entries(weekly)) {
    const last = runs[runs.length - 1];
    if (last && last.hours === dayHours(periods)) last.to = day;
    else runs.push({ from: day, to: day, hours: dayHours(periods) });
  }
  return runs.map((r) => `${WEEKDAY_NAMES[r.from]}${r.to === r.from ? "" : `–${WEEKDAY_NAMES[r.to]}`} ${r.hours}`)
    .join(" · ");
}

// The site's opening hours, when it has them, decide which hours the figures cover.
function hoursParams() {
  return state.site.opening_hours ? { hours: document.getElementById("hours").value } : {};
}

// Which hours the figures cover, the schedule (with the exceptions in the range), and,
// within opening hours, what happened outside them.
function renderHours(ff, visitors, dwellReport) {
  const note = document.getElementById("hours-note");
  const tile = document.getElementById("outside-tile");
  const hours = state.site.opening_hours;
  tile.hidden = !(hours && ff.outside_hours);
  if (!hours) {
    note.textContent = "";
    return;
  }
  const from = document.getElementById("date-from").value;
  const to = document.getElementById("date-to").value;
  const special = hours.exceptions.filter((e) => e.date >= from && e.date <= to)
    .map((e) => `${e.date} ${dayHours(e.hours)}${e.name ? ` (${e.name})` : ""}`);
  const schedule = [weeklySummary(hours.weekly), ...special].join("; ");
  if (ff.hours === "open") {
    const out = ff.outside_hours;
    const visits = dwellReport.outside_hours.zones.reduce((n, z) => n + z.visits, 0);
    document.getElementById("footfall-outside-in").textContent = out.total_in;
    note.textContent = `Within opening hours (${schedule}). Outside them: ${out.total_in} in, ` +
      `${out.total_out} out, ${visitors.outside_hours.total} unique visitors seen only then, ` +
      `${visits} zone visits begun then.`;
  } else if (ff.hours === "outside") {
    note.textContent = `Outside opening hours (${schedule}) only.`;
  } else {
    note.textContent = `All hours, open or not (opening hours: ${schedule}).`;
  }
}

function renderDwell(report) {
  const zones = report.zones.map((z) => z.zone_id);
  const stat = (name, key) => ({
    type: "bar", name, x: zones, y: report.zones.map((z) => (z[key] === null ? 0 : z[key])),
  });
  Plotly.react("dwell-chart", [stat("mean", "mean_s"), stat("median", "median_s"), stat("p90", "p90_s")], {
    barmode: "group", margin: { t: 10, r: 10, b: 40, l: 50 }, yaxis: { title: "seconds" },
    legend: { orientation: "h" },
  }, { displaylogo: false, responsive: true });
}

function renderTransitions(page) {
  const body = document.querySelector("#transitions-table tbody");
  body.replaceChildren();
  for (const t of page.items) {
    const row = body.insertRow();
    cell(row, t.from_zone); cell(row, t.to_zone); cell(row, t.count);
  }
  if (!page.items.length) cell(body.insertRow(), "no transitions in this range");
}

function renderAlerts(page, timezone) {
  const body = document.querySelector("#alerts-table tbody");
  body.replaceChildren();
  const fmt = new Intl.DateTimeFormat([], { dateStyle: "short", timeStyle: "medium", timeZone: timezone });
  for (const a of page.items) {
    const row = body.insertRow();
    row.dataset.alert = a.alert_id;
    cell(row, fmt.format(new Date(a.event_ns / 1e6)));
    cell(row, a.label); cell(row, a.gallery); cell(row, a.camera_id);
    cell(row, a.similarity.toFixed(3));
    cell(row, a.published ? (a.webhook_state === "none" ? "kafka" : `kafka, webhook ${a.webhook_state}`) : "pending");
  }
  if (!page.items.length) cell(body.insertRow(), "no VIP arrivals in this range");
}

// With staff excluded, the staff-inclusive totals are shown beside them: both numbers count.
function renderStaffNote(excluded, withStaff, visitorsWithStaff) {
  const note = document.getElementById("staff-note");
  note.textContent = excluded
    ? `Staff excluded. Including staff: ${withStaff.total_in} in, ${withStaff.total_out} out, ` +
      `${visitorsWithStaff.total} unique visitors.`
    : "Including staff.";
}

// "45 s", "3 min 20 s", "2 h 5 min", "1 d 3 h": the two largest units.
function formatDuration(seconds) {
  let rest = Math.round(seconds);
  if (rest === 0) return seconds > 0 ? "< 1 s" : "0 s";
  const parts = [];
  for (const [size, name] of [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]]) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n || parts.length) parts.push([n, name]);
  }
  // The second unit is left out when it is zero: "2 h", not "2 h 0 min".
  return parts.slice(0, 2).filter(([n], i) => i === 0 || n > 0).map(([n, name]) => `${n} ${name}`).join(" ");
}

// "14:05" in the site's time; the date too when it is not today there.
function siteClock(ns, timezone) {
  const at = new Date(ns / 1e6);
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(at);
  const when = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: timezone })
    .format(at);
  if (day === todayIn(timezone)) return when;
  return `${new Intl.DateTimeFormat([], { dateStyle: "short", timeZone: timezone }).format(at)} ${when}`;
}

// "down since 14:05 (for 3 min 20 s)"; the date too when it began before today (site time).
function downSince(outage, timezone) {
  return `down since ${siteClock(outage.started_ns, timezone)} (for ${formatDuration(outage.duration_s)})`;
}

function outageCount(c) {
  return c.outages.length >= MAX_LISTED_OUTAGES ? `${c.outages.length}+` : String(c.outages.length);
}

// The camera's outages, newest first, in a row of their own under the camera's row.
function showOutages(row, c, fmt, open) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("outage-list")) next.remove();
  const button = row.querySelector("button.outages-toggle");
  button.setAttribute("aria-expanded", String(open));
  button.textContent = `${outageCount(c)} ${open ? "▾" : "▸"}`;
  if (!open) {
    state.openOutages.delete(c.camera_id);
    return;
  }
  state.openOutages.add(c.camera_id);
  const detail = row.parentElement.insertRow(row.sectionRowIndex + 1);
  detail.className = "outage-list";
  detail.dataset.outagesOf = c.camera_id;
  const td = detail.insertCell();
  td.colSpan = row.cells.length;
  const table = document.createElement("table");
  table.className = "outages";
  table.innerHTML = "<thead><tr><th>start</th><th>end</th><th>duration</th><th>state</th><th>message</th></tr></thead>";
  const body = table.createTBody();
  for (const o of [...c.outages].reverse()) {
    const r = body.insertRow();
    cell(r, fmt.format(new Date(o.started_ns / 1e6)));
    if (o.ended_ns === null) cell(r, "ongoing", "ongoing");
    else cell(r, fmt.format(new Date(o.ended_ns / 1e6)));
    cell(r, formatDuration(o.duration_s));
    cell(r, o.state, `state-${o.state}`);
    cell(r, o.message);
  }
  td.append(table);
  if (c.outages.length >= MAX_LISTED_OUTAGES) {
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = `The latest ${MAX_LISTED_OUTAGES} outages; there may be more.`;
    td.append(note);
  }
}

function processedRate(c) {
  if (c.fps === null) return "–";
  // Older edges report no camera rate (0): show what was processed alone.
  return c.source_fps ? `${c.fps.toFixed(1)} of ${c.source_fps.toFixed(1)}` : c.fps.toFixed(1);
}

function renderCameras(page, timezone) {
  const body = document.querySelector("#camera-table tbody");
  body.replaceChildren();
  const fmt = new Intl.DateTimeFormat([], { dateStyle: "short", timeStyle: "medium", timeZone: timezone });
  for (const c of page.items) {
    const row = body.insertRow();
    row.dataset.camera = c.camera_id;
    cell(row, c.camera_id);
    const stateCell = cell(row, c.state + (c.stale ? " (stale)" : ""), `state-${c.state}${c.stale ? " stale" : ""}`);
    const ongoing = c.outages.find((o) => o.ended_ns === null);
    if (ongoing) {
      const marker = document.createElement("span");
      marker.className = "down-since";
      marker.textContent = downSince(ongoing, timezone);
      stateCell.append(marker);
    }
    if (c.overloaded) {
      // The edge cannot keep up with this camera at its full rate and sheds frames.
      const marker = document.createElement("span");
      marker.className = "overloaded";
      marker.textContent = "overloaded";
      stateCell.append(marker);
    }
    cell(row, processedRate(c));
    cell(row, c.lag_ms === null ? "–" : c.lag_ms.toFixed(0));
    cell(row, c.frames ?? "–");
    cell(row, c.dropped_frames === null ? "–" : `${c.dropped_frames}` + (c.thinned_frames ? ` + ${c.thinned_frames} thinned` : ""));
    cell(row, c.last_event_ns === null ? "never" : fmt.format(new Date(c.last_event_ns / 1e6)));
    cell(row, formatDuration(c.downtime_s), "downtime");
    const outagesCell = cell(row, c.outages.length ? "" : "0", "outages");
    if (c.outages.length) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "outages-toggle";
      button.title = `list ${c.camera_id}'s outages`;
      button.addEventListener("click", () => showOutages(row, c, fmt, button.getAttribute("aria-expanded") !== "true"));
      outagesCell.append(button);
      showOutages(row, c, fmt, state.openOutages.has(c.camera_id));
    }
  }
}

async function renderHeatmap(params) {
  const floor = document.getElementById("floor").value;
  const img = document.getElementById("heatmap-img");
  const grid = await json(`/api/v1/sites/${state.site.id}/floors/${floor}/heatmap`, params);
  const png = await (await api(`/api/v1/sites/${state.site.id}/floors/${floor}/heatmap.png`, params)).blob();
  if (img.src) URL.revokeObjectURL(img.src);
  img.src = URL.createObjectURL(png);
  document.getElementById("heatmap-note").textContent =
    `${grid.width}×${grid.height} cells of ${grid.cell_m} m, ${Math.round(grid.total_seconds)} person-seconds`;
}

// "/ 150" beside a count that has a capacity; the tile turns red while an alert is raised on it.
function showCapacity(tile, capacityEl, now) {
  capacityEl.textContent = now.capacity === null ? "" : `/ ${now.capacity}`;
  tile.classList.toggle("over", now.alert !== null);
}

// One line per raised alert, the site's first: an alert stays raised below the capacity,
// down to its clear level, so the line says both.
function renderCapacityBanner(live, timezone) {
  const banner = document.getElementById("capacity-banner");
  const list = banner.querySelector("ul");
  list.replaceChildren();
  for (const now of [live.site, ...live.zones]) {
    if (now.alert === null) continue;
    const a = now.alert;
    const item = document.createElement("li");
    item.dataset.alert = a.alert_id;
    item.textContent = `${now.scope === "site" ? "The site" : `Zone ${now.scope_id}`}: ${now.count} people, ` +
      `capacity ${a.capacity}; since ${siteClock(a.raised_ns, timezone)}, peak ${a.peak_count}; ` +
      `clears at ${a.clear_at} or fewer`;
    list.append(item);
  }
  banner.hidden = list.children.length === 0;
}

function renderOccupancy(live) {
  document.getElementById("occupancy-site").textContent = live.site.count;
  showCapacity(document.getElementById("occupancy-site-tile"), document.getElementById("occupancy-site-capacity"),
    live.site);
  const tiles = document.getElementById("occupancy-tiles");
  tiles.replaceChildren();
  for (const z of live.zones) {
    const tile = document.createElement("div");
    tile.className = "tile live";
    tile.dataset.zone = z.scope_id;
    tile.innerHTML = '<span class="label"></span><span class="value"></span><span class="capacity"></span>';
    tile.querySelector(".label").textContent = z.scope_id;
    tile.querySelector(".value").textContent = z.count;
    showCapacity(tile, tile.querySelector(".capacity"), z);
    tiles.append(tile);
  }
  renderCapacityBanner(live, state.site.timezone);
  state.liveUpdates += 1;
  document.body.dataset.liveUpdates = state.liveUpdates;
}

// EventSource cannot send headers, so the stream is read with fetch.
async function followOccupancy() {
  if (state.stream) state.stream.abort();
  const controller = new AbortController();
  state.stream = controller;
  try {
    const response = await fetch(`/api/v1/sites/${state.site.id}/occupancy/stream`, {
      headers: state.key ? { "X-API-Key": state.key } : {}, signal: controller.signal,
    });
    if (!response.ok) throw new Error(`occupancy stream: ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = message.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (data) renderOccupancy(JSON.parse(data));
      }
    }
  } catch (err) {
    if (err.name !== "AbortError") {
      // Reconnect after a pause; meanwhile show the last counts.
      setTimeout(followOccupancy, 5000);
    }
  }
}

async function refresh() {
  showError("");
  const params = rangeParams();
  const excluded = document.getElementById("exclude-staff").checked;
  const hours = hoursParams();
  const counted = { ...params, ...hours, exclude_staff: excluded };
  const base = `/api/v1/sites/${state.site.id}`;
  try {
    const [ff, visitors, dwellReport, trans, cameras, ffAll, visitorsAll, alerts] = await Promise.all([
      json(`${base}/footfall`, counted),
      json(`${base}/visitors`, counted),
      json(`${base}/dwell`, counted),
      json(`${base}/transitions`, params),
      json(`${base}/cameras`, { outage_window_s: OUTAGE_WINDOW_S }),
      json(`${base}/footfall`, { ...params, ...hours }),
      json(`${base}/visitors`, { ...params, ...hours }),
      json(`${base}/alerts`, { start: params.start, end: params.end, limit: 50 }),
    ]);
    renderFootfall(ff);
    document.getElementById("visitors-total").textContent = visitors.total;
    renderHours(ff, visitors, dwellReport);
    renderStaffNote(excluded, ffAll, visitorsAll);
    renderDwell(dwellReport);
    renderAlerts(alerts, state.site.timezone);
    renderTransitions(trans);
    renderCameras(cameras, state.site.timezone);
    await renderHeatmap(params);
    state.renders += 1;
    document.body.dataset.renders = state.renders;
  } catch (err) {
    showError(err.message);
  }
}

function todayIn(timezone) {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(new Date());
}

async function chooseSite(siteId) {
  state.site = state.sites.find((s) => s.id === siteId) || state.sites[0];
  state.openOutages.clear();
  document.getElementById("site").value = state.site.id;
  const floors = document.getElementById("floor");
  floors.replaceChildren(...state.site.floors.map((f) => new Option(f.name || f.id, f.id)));
  // Figures default to opening hours where the site has them (as the API does).
  document.getElementById("hours-control").hidden = !state.site.opening_hours;
  document.getElementById("hours").value = "open";
  const today = todayIn(state.site.timezone);
  document.getElementById("date-from").value = today;
  document.getElementById("date-to").value = today;
  await refresh();
  followOccupancy();
}

async function start() {
  const wanted = readFragment();
  try {
    state.sites = (await json("/api/v1/sites", { limit: 1000 })).items;
  } catch (err) {
    showError(err.message);
    return;
  }
  if (!state.sites.length) {
    showError("no sites in the database yet: run `mallflow demo` or a cloud consumer first");
    return;
  }
  document.getElementById("site").replaceChildren(...state.sites.map((s) => new Option(s.name || s.id, s.id)));
  await chooseSite(wanted);
}

document.getElementById("controls").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
document.getElementById("site").addEventListener("change", (e) => chooseSite(e.target.value));
document.getElementById("floor").addEventListener("change", () => renderHeatmap(rangeParams()).catch((e) => showError(e.message)));
document.getElementById("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("mallflow-key", document.getElementById("api-key").value);
  document.getElementById("key-form").hidden = true;
  start();
});
start();
