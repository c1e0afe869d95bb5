// Activity monitor page: fetches /hub/api/activity, renders a sortable table, refreshes itself.
(function () {
  "use strict";
  const REFRESH_MS = 30000;
  const page = document.getElementById("activity-page");
  const culling = page.dataset.culling === "1";
  const tbody = document.querySelector("#activity-table tbody");
  const measured = document.getElementById("activity-measured");
  const refreshBtn = document.getElementById("activity-refresh");
  const errorBox = document.getElementById("activity-error");
  let data = null;
  let measuredAt = null; // Date of the figures shown
  let sortKey = "status";
  let sortDir = -1; // -1 descending, 1 ascending
  let timer = null;

  function statusOf(u) {
    if (!u.server_active) return { rank: 0, cls: "red", text: "Not running" };
    if (u.recently_active) return { rank: 2, cls: "green", text: "Running and active" };
    return { rank: 1, cls: "amber", text: "Running but idle" };
  }

  // "45 s", "5 min", "2 h 14 min", "3 d"
  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    const min = Math.floor(seconds / 60);
    if (min < 60) return min + " min";
    const h = Math.floor(min / 60);
    if (h < 24) return h + " h " + (min % 60) + " min";
    return Math.floor(h / 24) + " d";
  }


  // a row per server: the user's default server, and "user/server" for each named one
  const who = (u) => (u.server ? u.username + "/" + u.server : u.username);

  function sortValue(u, key) {
    if (key === "status") return statusOf(u).rank;
    if (key === "username") return who(u).toLowerCase();
    if (key === "last_activity") return u.last_activity ? Date.parse(u.last_activity) : null;
    return u[key];
  }

  function compare(a, b) {
    const va = sortValue(a, sortKey), vb = sortValue(b, sortKey);
    if (va === null || va === undefined) return (vb === null || vb === undefined) ? who(a).localeCompare(who(b)) : 1;
    if (vb === null || vb === undefined) return -1; // empty values last in both directions
    if (va < vb) return -sortDir;
    if (va > vb) return sortDir;
    return who(a).localeCompare(who(b));
  }

  function cell(row, text, cls, title) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (text !== null && text !== undefined) td.textContent = text;
    if (title) td.title = title;
    row.appendChild(td);
    return td;
  }

  function render() {
    if (!data) return;
    const now = Date.now();
    tbody.replaceChildren();
    for (const u of [...data.users].sort(compare)) {
      const tr = document.createElement("tr");
      tr.dataset.username = u.username;
      if (u.server) tr.dataset.server = u.server;
      const st = statusOf(u);
      const dotCell = cell(tr, null, "activity-status", st.text);
      dotCell.dataset.status = st.cls;
      const dot = document.createElement("span");
      dot.className = "activity-dot " + st.cls;
      dot.setAttribute("aria-label", st.text);
      dotCell.appendChild(dot);
      cell(tr, who(u), "activity-user");
      cell(tr, u.cpu_percent === null ? "" : u.cpu_percent.toFixed(1) + " %", "activity-cpu text-end");
      const mem = u.memory_mb === null ? "" :
        Math.round(u.memory_mb) + " MB" + (u.memory_percent === null ? "" : " (" + u.memory_percent.toFixed(1) + " %)");
      cell(tr, mem, "activity-memory text-end");
      if (culling) {
        cell(tr, u.time_remaining_seconds === null ? "" : duration(u.time_remaining_seconds), "activity-time-left text-end");
      }
      const last = u.last_activity ? Date.parse(u.last_activity) : null;
      cell(tr, last === null ? "never" : duration((now - last) / 1000) + " ago", "activity-last text-end",
        last === null ? "" : new Date(last).toLocaleString());
      const scoreCell = cell(tr, null, "activity-score");
      if (u.activity_score !== null) {
        scoreCell.title = u.activity_score.toFixed(1) + " %";
        scoreCell.dataset.score = u.activity_score;
        const bar = document.createElement("span");
        bar.className = "activity-bar";
        const filled = Math.round(u.activity_score / 20);
        for (let i = 0; i < 5; i++) {
          const seg = document.createElement("span");
          if (i < filled) seg.className = "on";
          bar.appendChild(seg);
        }
        scoreCell.appendChild(bar);
      }
      cell(tr, String(u.sample_count), "activity-samples text-end");
      const volumes = cell(tr, stellarsBytes(u.volume_bytes), "activity-volumes text-end");
      const q = u.server ? null : quotas[u.username];  // soft storage quota from a group policy, shown on the default row
      if (q) {
        volumes.textContent += " (quota " + q.quota_text + ")";
        volumes.title = "Storage " + q.text + ", quota from " + q.from_groups.join(", ");
        if (q.over) volumes.classList.add("text-danger", "fw-bold", "activity-over-quota");
      }
      tbody.appendChild(tr);
    }
    document.querySelectorAll("#activity-table th[data-sort]").forEach((th) => {
      th.setAttribute("aria-sort", th.dataset.sort === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none");
    });
    const s = data.settings;
    document.getElementById("activity-legend").textContent =
      "Idle after " + s.inactive_after_minutes + " min without lab activity. Score over " + s.retention_days +
      " d of samples taken every " + s.sample_interval_seconds + " s, half-life " + s.half_life_hours + " h.";
  }

  function tick() {
    if (measuredAt) measured.textContent = "measured " + Math.max(0, Math.round((Date.now() - measuredAt) / 1000)) + " s ago";
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.classList.toggle("d-none", !message);
  }

  let quotas = {};
  // who is there, running, recently active, and the activity bar: what the table says at a glance
  // (live CPU and memory figures move every time and do not count as a change)
  const signature = (body) => JSON.stringify(((body && body.users) || []).map((u) =>
    [who(u), u.server_active, u.recently_active, Math.round(u.activity_score || 0)]));

  // resolves true when the table changed (stellarsPoll keeps the refresh at REFRESH_MS then)
  async function load() {
    let changed = false;
    refreshBtn.disabled = true;
    refreshBtn.querySelector(".spinner-border").classList.remove("d-none");
    try {
      const body = await window.stellarsApi("GET", "activity");
      changed = signature(body) !== signature(data);
      data = body;
      try {
        quotas = Object.fromEntries((await window.stellarsApi("GET", "storage")).users.map((q) => [q.username, q]));
      } catch (e) { quotas = {}; }
      measuredAt = Date.parse(body.stats_timestamp || body.timestamp);
      showError((body.errors || []).join("; "));
      render();
      tick();
    } catch (e) {
      showError("Could not load activity: " + e.message);
    } finally {
      refreshBtn.disabled = false;
      refreshBtn.querySelector(".spinner-border").classList.add("d-none");
    }
    return changed;
  }

  document.querySelectorAll("#activity-table th[data-sort]").forEach((th) => {
    th.addEventListener("click", () => {
      if (sortKey === th.dataset.sort) sortDir = -sortDir;
      else { sortKey = th.dataset.sort; sortDir = th.dataset.sort === "username" ? 1 : -1; }
      render();
    });
  });
  refreshBtn.addEventListener("click", () => timer.now());

  const confirmBtn = document.getElementById("activity-reset-confirm");
  if (confirmBtn) {
    confirmBtn.addEventListener("click", async () => {
      confirmBtn.disabled = true;
      try {
        await window.stellarsApi("POST", "activity/reset");
        window.bootstrap.Modal.getOrCreateInstance(document.getElementById("activity-reset-dialog")).hide();
        await load();
      } catch (e) {
        showError("Reset failed: " + e.message);
      } finally {
        confirmBtn.disabled = false;
      }
    });
  }

  setInterval(tick, 1000);
  // every REFRESH_MS, backing off to 4x that while nothing changes; none while the tab is hidden
  timer = window.stellarsPoll(load, REFRESH_MS, 4 * REFRESH_MS);
})();
