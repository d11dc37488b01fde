// Chain overview: every site's day so far (its own local day) against the same weekday a week
// earlier up to the same time, and its live occupancy against capacity; from /api/v1/chain, a page
// at a time. Uses the dashboard's key (sessionStorage) and sets body.dataset.renders per page shown.
"use strict";

const PAGE_SIZE = 20;
const chain = { offset: 0, total: 0, renders: 0 };

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
}

async function fetchPage() {
  const url = new URL("/api/v1/chain", location.origin);
  url.searchParams.set("limit", PAGE_SIZE);
  url.searchParams.set("offset", chain.offset);
  const key = sessionStorage.getItem("mallflow-key");
  const response = await fetch(url, { headers: key ? { "X-API-Key": key } : {} });
  if (response.status === 401 || response.status === 403) {
    document.getElementById("key-form").hidden = false;
    throw new Error("an API key with read access is needed");
  }
  if (!response.ok) throw new Error(`/api/v1/chain: ${(await response.json()).detail || response.statusText}`);
  return response.json();
}

// "+12.5 %" / "−40 %"; "new" when a week ago had none (no percentage of nothing).
function changeText(figure) {
  if (figure.change_pct === null) return figure.today > 0 ? "new" : "";
  if (figure.change_pct === 0) return "±0 %";
  return `${figure.change_pct > 0 ? "+" : "−"}${Math.abs(figure.change_pct)} %`;
}

function figureCells(row, figure) {
  const td = row.insertCell();
  td.textContent = figure.today;
  const change = document.createElement("span");
  change.className = "change";
  change.textContent = changeText(figure);
  td.append(change);
  td.className = figure.today > figure.week_ago ? "up" : figure.today < figure.week_ago ? "down" : "";
  row.insertCell().textContent = figure.week_ago;
}

function renderChain(page) {
  const body = document.querySelector("#chain-table tbody");
  body.replaceChildren();
  for (const s of page.items) {
    const row = body.insertRow();
    row.dataset.site = s.site_id;
    if (s.over_capacity) row.className = "over";
    const name = row.insertCell();
    const link = document.createElement("a");
    link.href = `/#site=${encodeURIComponent(s.site_id)}`;
    link.textContent = s.name || s.site_id;
    name.append(link);
    row.insertCell().textContent = `${s.day} (${s.timezone}, to ${s.as_of.slice(11, 16)})${s.hours === "open" ? ", opening hours" : ""}`;
    figureCells(row, s.footfall_in);
    figureCells(row, s.visitors);
    const occupancy = row.insertCell();
    occupancy.className = "occupancy";
    occupancy.textContent = s.capacity === null ? `${s.occupancy}` : `${s.occupancy} / ${s.capacity} (${s.utilisation_pct} %)`;
  }
  chain.total = page.total;
  const last = Math.min(chain.offset + page.items.length, page.total);
  document.getElementById("chain-page").textContent = `sites ${page.total ? chain.offset + 1 : 0}–${last} of ${page.total}`;
  document.getElementById("chain-note").textContent = `as of ${new Date(page.as_of).toLocaleTimeString()}`;
  document.getElementById("chain-prev").disabled = chain.offset === 0;
  document.getElementById("chain-next").disabled = last >= page.total;
}

async function showPage(offset) {
  chain.offset = Math.max(0, offset);
  showError("");
  try {
    renderChain(await fetchPage());
    chain.renders += 1;
    document.body.dataset.renders = chain.renders;
  } catch (err) {
    showError(err.message);
  }
}

document.getElementById("chain-prev").addEventListener("click", () => showPage(chain.offset - PAGE_SIZE));
document.getElementById("chain-next").addEventListener("click", () => showPage(chain.offset + PAGE_SIZE));
document.getElementById("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("mallflow-key", document.getElementById("api-key").value);
  document.getElementById("key-form").hidden = true;
  showPage(chain.offset);
});
showPage(0);
