// Session card: counts down to the stop the idle culler will apply (the deadline comes from the
// session-info API, the same computation the culler uses) and extends the session.
(function () {
  "use strict";
  const card = document.getElementById("session-card");
  if (!card) return;
  const apiPath = card.dataset.apiPath; // under the hub API, for window.stellarsApi
  const byId = (id) => document.getElementById(id);
  const REFRESH_MS = 60000; // lab activity moves the deadline: ask again now and then
  let deadlineMs = null; // local-clock time of the stop

  // {ok, status, data}: a refusal is an answer to show; only a hub that did not answer throws
  async function call(method, path, body) {
    try {
      return { ok: true, status: 200, data: await window.stellarsApi(method, apiPath + path, body) };
    } catch (err) {
      if (err.status === undefined) throw err;
      return { ok: false, status: err.status, data: { message: err.message } };
    }
  }

  const { clock, level } = window.stellarsCountdown;

  function human(seconds) {
    const unit = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    const parts = [];
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (h) parts.push(unit(h, "hour"));
    if (m) parts.push(unit(m, "minute"));
    if (s || !parts.length) parts.push(unit(s, "second"));
    return parts.join(" ");
  }

  let lastRefresh = 0;

  function tick() {
    if (deadlineMs === null) return;
    const left = (deadlineMs - Date.now()) / 1000;
    byId("session-remaining").textContent = clock(left);
    card.dataset.level = level(left);
    // past the deadline the culler stops the lab at its next pass: look more often
    if (left <= 0 && Date.now() - lastRefresh > 10000) refresh();
  }

  function explain(info) {
    let text =
      `To free resources for everyone, a server is stopped after ${human(info.timeout_seconds)} ` +
      "without activity; your files are kept. Using your lab (a cell still running counts) restarts the countdown, " +
      "and Extend adds time.";
    if (info.max_age_seconds) {
      text += ` Servers are also stopped ${human(info.max_age_seconds)} after they start, whatever their activity`;
      text += info.stop_reason === "max-age" ? ": that limit comes first for this server, and extending does not move it." : ".";
    }
    if (info.limits_from && info.limits_from !== "default") text += ` (This server's limits: ${info.limits_from}.)`;
    return text;
  }

  function showAllowance(info) {
    const input = byId("session-extend-hours");
    const button = byId("session-extend-button");
    const allowance = byId("session-allowance");
    const max = info.max_extension_hours;
    const left = info.extension_available_hours;
    let blocked = true;
    if (max === 0) {
      allowance.textContent = "Extending is turned off on this hub.";
    } else if (left === 0) {
      allowance.textContent =
        `You have used all ${max} extension hours for this server start. ` +
        "The allowance starts afresh the next time your server is started.";
    } else {
      allowance.textContent = `${left} of ${max} extension hours left for this server start.`;
      blocked = false;
      input.max = String(left);
      if (Number(input.value) > left) input.value = String(left);
    }
    input.disabled = blocked;
    button.disabled = blocked;
    allowance.classList.toggle("text-body-secondary", !blocked);
    allowance.classList.toggle("text-danger", blocked);
  }

  function render(info) {
    const shown = Boolean(info.culler_enabled && info.server_active && info.time_remaining_seconds !== null);
    card.classList.toggle("d-none", !shown);
    const placeholder = byId("session-none");
    if (placeholder) placeholder.classList.toggle("d-none", shown);
    if (!shown) {
      deadlineMs = null;
      return;
    }
    deadlineMs = Date.now() + info.time_remaining_seconds * 1000;
    byId("session-why").textContent = explain(info);
    showAllowance(info);
    tick();
  }

  function say(text, kind) {
    const box = byId("session-message");
    box.textContent = text;
    box.className = `small mt-2 alert alert-${kind} py-1 px-2`;
  }

  let refresher = null;

  // resolves true when the deadline moved (lab activity, an extension) or the card appeared/went
  async function refresh() {
    lastRefresh = Date.now();
    const before = deadlineMs;
    try {
      const r = await call("GET", "session-info");
      if (r.ok) render(r.data);
      if (r.ok && !r.data.culler_enabled && refresher !== null) {
        refresher.stop(); // culling is off for the whole hub: nothing will change
        refresher = null;
      }
    } catch (e) {
      /* the next refresh tries again */
    }
    return (before === null) !== (deadlineMs === null) || Math.abs((deadlineMs || 0) - (before || 0)) > 5000;
  }

  byId("session-extend-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const raw = byId("session-extend-hours").value.trim();
    const hours = Number(raw);
    if (raw === "" || !Number.isInteger(hours) || hours < 1) {
      say("Enter a whole number of hours, at least 1.", "danger");
      return;
    }
    const button = byId("session-extend-button");
    button.disabled = true;
    try {
      const r = await call("POST", "extend-session", { hours });
      if (r.ok) {
        render(r.data);
        say(r.data.message, r.data.truncated ? "warning" : "success");
      } else {
        say(r.data.message || `Extending failed (HTTP ${r.status}); reload the page and try again.`, "danger");
        await refresh();
      }
    } catch (e) {
      say("The hub did not answer; try again in a moment.", "danger");
      button.disabled = false;
    }
  });

  setInterval(tick, 1000);
  // once a minute, backing off to every 8 minutes while the deadline stays put; none while hidden
  refresher = window.stellarsPoll(refresh, REFRESH_MS, 8 * REFRESH_MS);
  // for the page around the card, e.g. after it started or stopped the server
  window.stellarsSessionCard = { refresh };
})();
