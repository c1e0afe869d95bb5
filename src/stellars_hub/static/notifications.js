// The Notifications page: compose, choose recipients, send, show results and history.
(function () {
  "use strict";
  const page = document.getElementById("notifications-page");
  if (!page) return;
  const maxLength = Number(page.dataset.maxLength);
  const $ = (id) => document.getElementById(id);
  const message = $("notify-message"), counter = $("notify-counter"), send = $("notify-send");
  const list = $("recipient-list"), chooser = $("recipient-chooser"), errorBox = $("notify-error");
  let running = [];
  let serversOf = new Map(); // user name -> their running servers ("" = the default one)
  let sending = false;

  const call = (method, path, body) => window.stellarsApi(method, "notifications/" + path, body);

  function cell(row, text, cls) {
    const td = row.insertCell();
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  const choosing = () => $("recipients-some").checked;
  const chosen = () => [...list.querySelectorAll("input:checked")].map((box) => box.value);
  const trimmedLength = () => message.value.trim().length;

  function refreshControls() {
    const length = trimmedLength();
    counter.textContent = `${length} / ${maxLength}`;
    counter.classList.toggle("text-danger", length > maxLength);
    message.classList.toggle("is-invalid", length > maxLength);
    // labs, not users: a user's named servers are reached too
    const count = choosing() ? chosen().reduce((n, u) => n + (serversOf.get(u) || [""]).length, 0) : running.length;
    send.textContent = `Send to ${count} lab${count === 1 ? "" : "s"}`;
    send.disabled = sending || length < 1 || length > maxLength || count === 0;
    chooser.hidden = !choosing();
    $("running-count").textContent = running.length;
    $("no-running").hidden = running.length > 0;
  }

  async function loadServers() {
    const keep = new Set(chosen());
    running = (await call("GET", "active-servers")).servers;
    serversOf = new Map();
    for (const server of running) {
      if (!serversOf.has(server.username)) serversOf.set(server.username, []);
      serversOf.get(server.username).push(server.server || "");
    }
    list.replaceChildren();
    for (const [username, servers] of serversOf) {
      const id = "recipient-" + username.replace(/[^A-Za-z0-9_-]/g, "_");
      const wrap = document.createElement("div");
      wrap.className = "form-check";
      const box = document.createElement("input");
      Object.assign(box, { type: "checkbox", className: "form-check-input", value: username, id });
      box.checked = keep.size === 0 || keep.has(username);
      box.addEventListener("change", refreshControls);
      const label = document.createElement("label");
      const named = servers.filter((s) => s);
      const text = named.length ? `${username} (${servers.map((s) => s || "default").join(", ")})` : username;
      Object.assign(label, { className: "form-check-label", htmlFor: id, textContent: text });
      wrap.append(box, label);
      list.append(wrap);
    }
    refreshControls();
  }

  function showResults(result) {
    const table = $("notify-results"), body = table.tBodies[0];
    body.replaceChildren();
    for (const d of result.details) {
      const row = body.insertRow();
      row.dataset.username = d.username;
      if (d.server) row.dataset.server = d.server;
      cell(row, d.server ? `${d.username}/${d.server}` : d.username);
      cell(row, d.status, d.status === "delivered" ? "text-success" : "text-danger");
      cell(row, d.error || "");
    }
    table.hidden = false;
    $("results-summary").textContent =
      `Delivered to ${result.successful} of ${result.total}` + (result.failed ? `, ${result.failed} failed.` : ".") +
      (result.warning ? ` ${result.warning}` : "");
  }

  async function loadHistory() {
    const { broadcasts } = await call("GET", "history?limit=50");
    const body = $("notify-history").tBodies[0];
    body.replaceChildren();
    for (const b of broadcasts) {
      const row = body.insertRow();
      row.dataset.id = b.id;
      cell(row, new Date(b.sent_at).toLocaleString());
      cell(row, b.sender);
      cell(row, b.message);
      cell(row, b.type);
      cell(row, b.recipients);
      if (b.state === "sending" || b.state === "interrupted") {
        // sent (or being sent) to b.total labs, results not recorded: never send it again
        const what = b.state === "interrupted" ? "interrupted: the hub stopped while sending" : "sent, results not recorded";
        cell(row, `${what} (${b.total} labs)`, "text-warning");
        cell(row, "?");
      } else {
        cell(row, String(b.successful), "text-success");
        cell(row, String(b.failed), b.failed ? "text-danger" : "");
      }
    }
    $("history-empty").hidden = broadcasts.length > 0;
  }

  function showError(err) {
    errorBox.textContent = err.message;
    errorBox.hidden = false;
  }

  $("notify-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    const body = {
      message: message.value,
      type: $("notify-type").value,
      autoClose: $("notify-autoclose").checked,
    };
    if (choosing()) body.recipients = chosen();
    sending = true;
    refreshControls();
    send.textContent = "Sending...";
    try {
      showResults(await call("POST", "broadcast", body));
      await Promise.all([loadHistory(), loadServers()]);
    } catch (err) {
      showError(err);
    } finally {
      sending = false;
      refreshControls();
    }
  });
  message.addEventListener("input", refreshControls);
  for (const radio of document.querySelectorAll("input[name=notify-recipients]")) {
    radio.addEventListener("change", refreshControls);
  }
  const setAll = (on) => { for (const box of list.querySelectorAll("input")) box.checked = on; refreshControls(); };
  $("select-all").addEventListener("click", () => setAll(true));
  $("select-none").addEventListener("click", () => setAll(false));
  $("refresh-servers").addEventListener("click", () => loadServers().catch(showError));

  refreshControls();
  loadServers().catch(showError);
  loadHistory().catch(showError);
})();
