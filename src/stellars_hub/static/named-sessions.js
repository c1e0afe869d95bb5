// Session cards of named servers: per running named server, the time left before idle culling
// stops it (its own deadline, from /users/<name>/servers/<server>/session-info) and an Extend
// control acting on that server only.
(function () {
  "use strict";
  const box = document.getElementById("named-sessions");
  if (!box) return;
  const user = box.dataset.user;
  const base = "users/" + encodeURIComponent(user) + "/";
  const REFRESH_MS = 60000;
  const cards = new Map(); // server name -> {card, deadlineMs}

  const { clock, level } = window.stellarsCountdown;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function cardFor(server) {
    let entry = cards.get(server);
    if (entry) return entry;
    const card = el("div", "card session-card named-session my-2");
    card.dataset.server = server;
    const body = el("div", "card-body py-2");
    const title = el("h6", "card-title mb-1", `Session of server ${server}`);
    const left = el("p", "mb-1");
    left.append("Time left before this server is stopped: ", el("strong", "session-remaining", "–"));
    const form = el("form", "row g-2 align-items-center");
    form.noValidate = true;
    const input = el("input", "form-control form-control-sm session-hours");
    Object.assign(input, { type: "number", min: "1", step: "1", value: "1", inputMode: "numeric" });
    input.setAttribute("aria-label", `Hours to extend server ${server} by`);
    const button = el("button", "btn btn-sm btn-primary session-extend", "Extend");
    button.type = "submit";
    const c1 = el("div", "col-auto"), c2 = el("div", "col-auto"), c3 = el("div", "col-auto");
    c1.append(input);
    c2.append(el("span", "small", "hours"));
    c3.append(button);
    form.append(c1, c2, c3);
    const allowance = el("p", "small mt-1 mb-0 session-allowance text-body-secondary");
    const message = el("div", "small mt-1 session-message");
    message.setAttribute("role", "status");
    body.append(title, left, form, allowance, message);
    card.append(body);
    box.append(card);
    entry = { card, deadlineMs: null };
    cards.set(server, entry);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      extend(server, input.value.trim());
    });
    return entry;
  }

  function render(server, info) {
    const entry = cardFor(server);
    entry.deadlineMs = Date.now() + info.time_remaining_seconds * 1000;
    const left = info.extension_available_hours;
    const blocked = info.max_extension_hours === 0 || left === 0;
    entry.card.querySelector(".session-allowance").textContent =
      info.max_extension_hours === 0
        ? "Extending is turned off on this hub."
        : `${left} of ${info.max_extension_hours} extension hours left for this server start.`;
    entry.card.querySelector(".session-extend").disabled = blocked;
    entry.card.querySelector(".session-hours").disabled = blocked;
    tick();
  }

  function tick() {
    for (const { card, deadlineMs } of cards.values()) {
      if (deadlineMs === null) continue;
      const left = (deadlineMs - Date.now()) / 1000;
      card.querySelector(".session-remaining").textContent = clock(left);
      card.dataset.level = level(left);
    }
  }

  async function extend(server, raw) {
    const entry = cards.get(server);
    const say = (text, kind) => {
      const m = entry.card.querySelector(".session-message");
      m.textContent = text;
      m.className = `small mt-1 session-message alert alert-${kind} py-1 px-2`;
    };
    const hours = Number(raw);
    if (raw === "" || !Number.isInteger(hours) || hours < 1) {
      say("Enter a whole number of hours, at least 1.", "danger");
      return;
    }
    try {
      const path = base + "servers/" + encodeURIComponent(server) + "/extend-session";
      const data = await window.stellarsApi("POST", path, { hours });
      render(server, data);
      say(data.message, data.truncated ? "warning" : "success");
    } catch (err) {
      say(err.message || "The hub did not answer; try again in a moment.", "danger");
    }
  }

  async function refresh() {
    const model = await window.stellarsApi("GET", base.slice(0, -1));
    const running = Object.entries(model.servers || {})
      .filter(([name, s]) => name && s.ready)
      .map(([name]) => name)
      .sort();
    for (const [server, entry] of cards) {
      if (!running.includes(server)) {
        entry.card.remove();
        cards.delete(server);
      }
    }
    for (const server of running) {
      const info = await window.stellarsApi("GET", base + "servers/" + encodeURIComponent(server) + "/session-info");
      if (!info.culler_enabled) {
        poller.stop(); // culling is off for the whole hub: there is no deadline to show
        return false;
      }
      if (info.server_active && info.time_remaining_seconds !== null) render(server, info);
      else if (cards.has(server)) {
        cards.get(server).card.remove();
        cards.delete(server);
      }
    }
    return false;
  }

  setInterval(tick, 1000);
  const poller = window.stellarsPoll(() => refresh().catch(() => false), REFRESH_MS, 8 * REFRESH_MS);
  // JupyterHub's own start/stop buttons in the named-server list: look again once they acted
  document.addEventListener("click", (event) => {
    if (event.target.closest("tr.home-server-row button, tr.home-server-row a.btn")) {
      for (const ms of [3000, 10000]) setTimeout(() => refresh().catch(() => {}), ms);
    }
  });
  window.stellarsNamedSessions = { refresh };
})();
