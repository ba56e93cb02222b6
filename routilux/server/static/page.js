// The live page: reads the API with the page's token and redraws from the event stream.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (selector) => document.querySelector(selector);
let flows = [];
let current = null;
let refreshTimer = null;
let breakpoints = [];

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
  });
  const type = response.headers.get("content-type") || "";
  const body = response.status === 204 ? null
    : type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error((body && body.error) || response.statusText);
  return body;
}

// Ids made in one process share their first half; the end tells them apart.
function shortId(id) { return id.length > 12 ? `…${id.slice(-10)}` : id; }

function say(text) { $("#message").textContent = text || ""; }

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  return td;
}

async function loadFlows() {
  flows = await api("/api/flows");
  const list = $("#flows");
  list.replaceChildren();
  for (const flow of flows) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.textContent = flow.flow_id;
    button.dataset.flow = flow.flow_id;
    button.addEventListener("click", () => select(flow.flow_id));
    item.append(button);
    list.append(item);
  }
  if (flows.length) await select(flows[0].flow_id);
}

async function select(name) {
  current = name;
  for (const button of document.querySelectorAll("#flows button")) {
    button.classList.toggle("selected", button.dataset.flow === name);
  }
  $("#flow-title").textContent = name;
  const flow = flows.find((f) => f.flow_id === name);
  const slots = $("#post-slot");
  slots.replaceChildren();
  for (const entry of flow.entry_slots) {
    const option = document.createElement("option");
    option.value = option.textContent = entry;
    slots.append(option);
  }
  await refresh();
}

async function refresh() {
  if (!current) return;
  const name = encodeURIComponent(current);
  try {
    const [svg, worker, jobs] = await Promise.all([
      api(`/api/flows/${name}/diagram.svg?live=1`),
      api(`/api/flows/${name}/worker`),
      api(`/api/jobs?flow=${name}&limit=20`),
    ]);
    $("#diagram").innerHTML = svg.slice(svg.indexOf("<svg"));
    breakpoints = worker.breakpoints;
    const status = worker.paused ? "paused" : worker.status;
    $("#worker-status").textContent = status;
    $("#worker-status").className = `badge ${status}`;
    const rows = jobs.slice(-20).reverse().map((job) => {
      const row = document.createElement("tr");
      const id = cell(shortId(job.job_id));
      id.title = job.job_id;
      row.append(id, cell(job.status, `status-${job.status}`),
        cell(new Date(job.created_at * 1000).toLocaleTimeString()), cell(job.error));
      return row;
    });
    $("#jobs tbody").replaceChildren(...rows);
    showWorker(worker);
  } catch (error) {
    say(error.message);
  }
}

// The parked activation (a breakpoint's) and, per routine, what waits and what ran.
function showWorker(worker) {
  const held = worker.held[0];
  $("#held").textContent = held
    ? `parked before ${held.routine_id}: ${JSON.stringify(held.inputs)}` : "";
  const rows = Object.entries(worker.stats).map(([routine, stats]) => {
    const queued = Object.values(worker.queues[routine] || {})
      .reduce((sum, queue) => sum + queue.length, 0);
    const row = document.createElement("tr");
    row.append(cell(routine), cell(queued || ""), cell(stats.activations),
      cell(stats.failures || "", stats.failures ? "status-failed" : ""));
    return row;
  });
  $("#routines tbody").replaceChildren(...rows);
}

// Events arrive in bursts; redraw at most every 300 ms.
function scheduleRefresh() {
  if (refreshTimer === null) {
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 300);
  }
}

function describe(event) {
  const where = event.routine_id ? ` ${event.routine_id}` : "";
  const extra = event.type === "emitted" ? ` ${event.event}`
    : event.type === "job_finished" ? ` ${shortId(event.job_id)} ${event.status}` : "";
  return `${event.flow || ""}${where}: ${event.type}${extra}`;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/events?token=${encodeURIComponent(token)}`);
  socket.addEventListener("open", () => {
    $("#connection").textContent = "live";
    $("#connection").className = "badge ok";
  });
  socket.addEventListener("close", () => {
    $("#connection").textContent = "disconnected";
    $("#connection").className = "badge down";
    setTimeout(connect, 2000);
  });
  socket.addEventListener("message", (message) => {
    const { events, dropped } = JSON.parse(message.data);
    const log = $("#events");
    for (const event of events.slice(-50)) {
      const item = document.createElement("li");
      item.textContent = describe(event);
      log.prepend(item);
    }
    while (log.children.length > 200) log.lastChild.remove();
    $("#dropped").textContent = dropped ? `(${dropped} dropped)` : "";
    if (events.some((event) => event.flow === current)) scheduleRefresh();
  });
}

// Clicking a routine toggles a "before" breakpoint on it, as in the notebook widget.
$("#diagram").addEventListener("click", async (click) => {
  const node = click.target.closest("g.routine");
  if (!node || !current) return;
  const routine = decodeURIComponent(node.id.slice("routine-".length));
  const flow = encodeURIComponent(current);
  const existing = breakpoints.find((bp) => bp.routine === routine && bp.kind === "before");
  say("");
  try {
    if (existing) {
      await api(`/api/flows/${flow}/breakpoints/${existing.id}`, { method: "DELETE" });
    } else {
      await api(`/api/flows/${flow}/breakpoints`, { method: "POST", body: JSON.stringify({ routine }) });
    }
  } catch (error) {
    say(error.message);
  }
  await refresh();
});

for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", async () => {
    say("");
    try {
      await api(`/api/flows/${encodeURIComponent(current)}/${button.dataset.action}`, { method: "POST" });
    } catch (error) {
      say(error.message);
    }
    await refresh();
  });
}

$("#post-form").addEventListener("submit", async (submit) => {
  submit.preventDefault();
  say("");
  try {
    const [routine, slot] = $("#post-slot").value.split(".");
    const data = JSON.parse($("#post-data").value || "null");
    await api(`/api/flows/${encodeURIComponent(current)}/jobs`, {
      method: "POST", body: JSON.stringify({ routine, slot, data }),
    });
  } catch (error) {
    say(error.message);
  }
  await refresh();
});

$("#api-doc").href = `/openapi.json?token=${encodeURIComponent(token)}`;
loadFlows().catch((error) => say(error.message));
connect();
