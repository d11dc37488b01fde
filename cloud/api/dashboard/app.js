// Mallflow dashboard: one site, one date range; every number comes from /api/v1.
"use strict";

const state = { key: null, site: null, sites: [], stream: null, renders: 0 };

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
}

function renderFootfall(ff) {
  document.getElementById("footfall-total-in").textContent = ff.total_in;
  document.getElementById("footfall-total-out").textContent = ff.total_out;
  const traces = ff.series.map((s) => ({
    type: "bar", name: `${s.line_id} ${s.direction}`, x: ff.buckets, y: s.counts,
  }));
  Plotly.react("footfall-chart", traces, {
    barmode: "group", margin: { t: 10, r: 10, b: 40, l: 40 }, legend: { orientation: "h" },
    yaxis: { title: "crossings" },
  }, { displaylogo: false, responsive: true });
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

function renderCameras(page, timezone) {
  const body = document.querySelector("#camera-table tbody");
  body.replaceChildren();
  const fmt = new Intl.DateTimeFormat([], { dateStyle: "short", timeStyle: "medium", timeZone: timezone });
  for (const c of page.items) {
    const row = body.insertRow();
    row.dataset.camera = c.camera_id;
    cell(row, c.camera_id);
    cell(row, c.state + (c.stale ? " (stale)" : ""), `state-${c.state}${c.stale ? " stale" : ""}`);
    cell(row, c.fps === null ? "–" : c.fps.toFixed(1));
    cell(row, c.lag_ms === null ? "–" : c.lag_ms.toFixed(0));
    cell(row, c.frames ?? "–");
    cell(row, c.dropped_frames ?? "–");
    cell(row, c.last_event_ns === null ? "never" : fmt.format(new Date(c.last_event_ns / 1e6)));
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

function renderOccupancy(live) {
  document.getElementById("occupancy-site").textContent = live.site.count;
  const tiles = document.getElementById("occupancy-tiles");
  tiles.replaceChildren();
  for (const z of live.zones) {
    const tile = document.createElement("div");
    tile.className = "tile live";
    tile.dataset.zone = z.scope_id;
    tile.innerHTML = '<span class="label"></span><span class="value"></span>';
    tile.querySelector(".label").textContent = z.scope_id;
    tile.querySelector(".value").textContent = z.count;
    tiles.append(tile);
  }
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
  const counted = { ...params, exclude_staff: excluded };
  const base = `/api/v1/sites/${state.site.id}`;
  try {
    const [ff, visitors, dwellReport, trans, cameras, ffAll, visitorsAll, alerts] = await Promise.all([
      json(`${base}/footfall`, counted),
      json(`${base}/visitors`, counted),
      json(`${base}/dwell`, counted),
      json(`${base}/transitions`, params),
      json(`${base}/cameras`),
      json(`${base}/footfall`, params),
      json(`${base}/visitors`, params),
      json(`${base}/alerts`, { start: params.start, end: params.end, limit: 50 }),
    ]);
    renderFootfall(ff);
    document.getElementById("visitors-total").textContent = visitors.total;
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
  document.getElementById("site").value = state.site.id;
  const floors = document.getElementById("floor");
  floors.replaceChildren(...state.site.floors.map((f) => new Option(f.name || f.id, f.id)));
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
