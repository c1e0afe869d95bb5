// Batch actions page: tick users (or pick a group / all running), preview, run with a live
// result per server read from the API's NDJSON stream, cancel. A user's named servers get rows
// of their own under the user's row as soon as the API names them.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const tbody = document.querySelector("#batch-table tbody");
  const errorBox = $("batch-error");
  const summary = $("batch-summary");
  let batchId = null;

  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.classList.toggle("d-none", !msg);
  }

  function userRow(name) {
    return tbody.querySelector(`tr[data-username="${CSS.escape(name)}"]:not([data-server])`);
  }

  // the row of one server: the user's own row for the default server, a row below it for a named one
  function rowFor(name, server) {
    if (!server) return userRow(name);
    const sel = `tr[data-username="${CSS.escape(name)}"][data-server="${CSS.escape(server)}"]`;
    let tr = tbody.querySelector(sel);
    const parent = userRow(name);
    if (tr || !parent) return tr;
    tr = document.createElement("tr");
    tr.dataset.username = name;
    tr.dataset.server = server;
    tr.className = "batch-named-server";
    ["", "", "", ""].forEach((_, i) => {
      const td = document.createElement("td");
      td.className = ["", "batch-user", "batch-server", "batch-status"][i];
      tr.appendChild(td);
    });
    tr.querySelector("td.batch-user").textContent = `${name} / ${server}`;
    let last = parent;
    while (last.nextElementSibling && last.nextElementSibling.dataset.username === name) last = last.nextElementSibling;
    last.after(tr);
    return tr;
  }

  function setStatus(name, server, text, cls, title) {
    const tr = rowFor(name, server);
    if (!tr) return;
    const td = tr.querySelector("td.batch-status");
    td.textContent = text;
    td.className = "batch-status " + (cls || "");
    td.title = title || "";
    tr.dataset.outcome = cls ? cls.replace("text-", "") : "";
  }

  const serverState = (u, server) => (u.servers && u.servers[server] && u.servers[server].ready ? "running" : "stopped");

  function showNamed(u) {
    for (const server of Object.keys(u.servers || {})) {
      if (server) rowFor(u.name, server).querySelector("td.batch-server").textContent = serverState(u, server);
    }
  }

  async function loadUsers() {
    const users = await window.stellarsApi("GET", "users?include_stopped_servers=1&limit=1000");
    tbody.replaceChildren();
    for (const u of users.sort((a, b) => a.name.localeCompare(b.name))) {
      const tr = document.createElement("tr");
      tr.dataset.username = u.name;
      const running = u.server !== null && u.server !== undefined;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.className = "form-check-input batch-pick";
      box.setAttribute("aria-label", "Select " + u.name);
      const cells = [box, u.name, running ? "running" : "stopped", ""];
      const classes = ["", "batch-user", "batch-server", "batch-status"];
      cells.forEach((c, i) => {
        const td = document.createElement("td");
        td.className = classes[i];
        if (typeof c === "string") td.textContent = c; else td.appendChild(c);
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
      showNamed(u);
    }
  }

  // the server column after a batch, keeping each row's result
  async function refreshServers() {
    const users = await window.stellarsApi("GET", "users?include_stopped_servers=1&limit=1000");
    for (const u of users) {
      const tr = userRow(u.name);
      if (tr) tr.querySelector("td.batch-server").textContent = u.server ? "running" : "stopped";
      if (tr) showNamed(u);
    }
  }

  function body() {
    const target = document.querySelector('input[name="batch-target"]:checked').value;
    const b = { action: $("batch-action").value };
    if (target === "users") {
      b.users = [...tbody.querySelectorAll("input.batch-pick:checked")].map((x) => x.closest("tr").dataset.username);
    } else if (target === "group") {
      b.group = $("batch-group").value;
    } else {
      b.all_running = true;
    }
    if ($("batch-notify").checked) {
      b.notify = { message: $("batch-notice").value, delay_seconds: parseInt($("batch-delay").value || "0", 10) };
    }
    return b;
  }

  async function preview() {
    showError("");
    summary.classList.add("d-none");
    tbody.querySelectorAll("td.batch-status").forEach((td) => { td.textContent = ""; td.className = "batch-status"; });
    try {
      const p = await window.stellarsApi("POST", "batch/preview", body());
      for (const r of p.users) {
        setStatus(r.username, r.server, r.applies ? "will " + p.action : "skipped: " + r.reason, r.applies ? "text-primary" : "text-body-secondary");
      }
      summary.textContent = `${p.affected} of ${p.users.length} server(s) will be affected.`;
      summary.classList.remove("d-none");
      $("batch-run").disabled = p.affected === 0;
    } catch (err) {
      showError(err.message);
      $("batch-run").disabled = true;
    }
  }

  function handle(event) {
    if (event.event === "plan") {
      batchId = event.id;
      for (const t of event.targets) setStatus(t.username, t.server, "waiting", "text-body-secondary");
    } else if (event.event === "notified") {
      for (const d of event.deliveries) setStatus(d.username, d.server, d.status === "delivered" ? "notified" : "notice failed: " + d.error, "text-body-secondary");
    } else if (event.event === "progress") {
      setStatus(event.username, event.server, event.phase + "…", "text-primary");
    } else if (event.event === "result") {
      if (event.outcome === "done") setStatus(event.username, event.server, "done", "text-success");
      else if (event.outcome === "failed") setStatus(event.username, event.server, "failed: " + event.error, "text-danger", event.error);
      else setStatus(event.username, event.server, "cancelled", "text-warning");
    } else if (event.event === "finished") {
      summary.textContent = `Finished: ${event.done} done, ${event.failed} failed, ${event.cancelled} cancelled.`;
      summary.classList.remove("d-none");
      $("batch-page").dataset.finished = event.id;
    }
  }

  async function run() {
    showError("");
    $("batch-run").disabled = true;
    $("batch-cancel").classList.remove("d-none");
    try {
      const resp = await fetch(window.jhdata.base_url + "api/batch", {
        method: "POST", credentials: "same-origin", body: JSON.stringify(body()),
        headers: { "X-XSRFToken": window.jhdata.xsrf_token, "Content-Type": "application/json" },
      });
      if (!resp.ok) {
        let msg = resp.status + " " + resp.statusText;
        try { msg = (await resp.json()).message || msg; } catch (e) { /* not JSON */ }
        throw new Error(msg);
      }
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) handle(JSON.parse(line));
        }
      }
    } catch (err) {
      showError(err.message);
    } finally {
      $("batch-cancel").classList.add("d-none");
      batchId = null;
      await refreshServers().catch(() => {});
    }
  }

  async function cancel() {
    if (!batchId) return;
    try { await window.stellarsApi("POST", "batch/" + batchId + "/cancel"); } catch (err) { showError(err.message); }
  }

  $("batch-all").addEventListener("change", (e) => {
    tbody.querySelectorAll("input.batch-pick").forEach((b) => { b.checked = e.target.checked; });
  });
  $("batch-preview").addEventListener("click", preview);
  $("batch-run").addEventListener("click", run);
  $("batch-cancel").addEventListener("click", cancel);
  loadUsers().catch((err) => showError(err.message));
})();
