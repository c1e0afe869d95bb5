// Restart Server / Manage Volumes controls (templates/selfservice-controls.html).
// Buttons follow the server's real state, polled from the hub API: Restart only while the
// server is running and ready, Manage Volumes only while it is fully stopped.
(function () {
  "use strict";
  const root = document.getElementById("selfservice");
  if (!root) return;
  const user = root.dataset.user;
  const userUrl = root.dataset.userUrl;
  const apiPath = "users/" + encodeURIComponent(user);
  const $ = (id) => document.getElementById(id);
  const show = (el, on) => el.classList.toggle("d-none", !on);
  let busy = false; // an action of ours is running: keep the buttons as they are
  let lastState = null;

  const api = (method, path, body) => window.stellarsApi(method, apiPath + path, body);

  function result(kind, html) {
    $("selfservice-result").innerHTML = html ? '<div class="alert alert-' + kind + '">' + html + "</div>" : "";
  }

  // ---- state -------------------------------------------------------------------------------
  // resolves true when the state changed or is changing (stellarsPoll then keeps looking often)
  async function refresh() {
    if (busy) return true;
    let model;
    try { model = await api("GET", ""); } catch (e) { return false; }
    const server = (model.servers || {})[""];
    const running = !!(server && server.ready);
    const stopped = !server && !model.pending;
    const stateNow = running ? "running" : stopped ? "stopped" : "changing";
    if (!running && (model.pending === "spawn" || (server && server.pending === "spawn"))) followProgress();
    else if (stateNow !== "changing") progressFailed = false;
    if (lastState !== null && stateNow !== lastState) {
      result(); // an old result no longer applies
      if (window.stellarsSessionCard) window.stellarsSessionCard.refresh(); // the idle-culling card
    }
    const changed = stateNow !== lastState || (stateNow === "changing" && !progress);
    lastState = stateNow;
    show($("restart-server"), running);
    show($("manage-volumes"), stopped);
    $("selfservice-state").textContent = running ? "Server running" :
      stopped ? "Server stopped" : "Server " + (model.pending || (server && server.pending) || "changing") + "…";
    return changed;
  }

  // While the server starts, its progress stream (the one JupyterHub's spawn page reads) says
  // when it is ready: the page follows it instead of asking every 3 s, so a class starting
  // together does not poll the hub thirty times over. If the stream fails, polling takes over.
  let progress = null;
  let progressFailed = false;
  function followProgress() {
    if (progress || progressFailed || !window.EventSource) return;
    progress = new EventSource(window.jhdata.base_url + "api/" + apiPath + "/server/progress?_xsrf=" +
      encodeURIComponent(window.jhdata.xsrf_token)); // an event stream sends no headers of ours
    const end = (failed) => {
      if (!progress) return;
      progress.close();
      progress = null;
      progressFailed = failed;
      poller.now();
    };
    progress.onmessage = (msg) => {
      let event = {};
      try { event = JSON.parse(msg.data); } catch (e) { /* not an event: keep following */ }
      if (event.ready || event.failed) end(false);
    };
    progress.onerror = () => end(true); // refused, or ended without a word: poll instead
  }

  // ---- restart -----------------------------------------------------------------------------
  const restartModal = new bootstrap.Modal($("restart-modal"));
  document.querySelectorAll(".ss-container").forEach((el) => { el.textContent = root.dataset.container; });

  $("restart-server").addEventListener("click", async () => {
    show($("restart-progress"), false);
    show($("restart-error"), false);
    show($("restart-recreate"), false);
    $("restart-confirm").disabled = false;
    restartModal.show();
    try {
      const r = await api("GET", "/restart-server");
      if (r.recreate) {
        // the lab's settings changed: it is stopped and started anew, not restarted in place
        $("restart-recreate-reason").textContent = r.recreate;
        show($("restart-recreate"), true);
      }
    } catch (e) { /* the POST reports errors */ }
  });

  $("restart-confirm").addEventListener("click", async () => {
    busy = true;
    $("restart-confirm").disabled = true;
    $("restart-cancel").disabled = true;
    show($("restart-error"), false);
    show($("restart-progress"), true);
    const started = Date.now();
    $("restart-phase").textContent = "Restarting the container";
    const ticker = setInterval(async () => {
      $("restart-elapsed").textContent = Math.round((Date.now() - started) / 1000) + " s";
      try {
        const p = await api("GET", "/restart-server");
        if (p.progress) $("restart-phase").textContent = p.progress.phase === "restarting" ?
          "Restarting the container" : p.progress.phase === "recreating" ?
          "Recreating the lab with its new settings" : "Waiting for JupyterLab to answer";
      } catch (e) { /* the POST reports errors */ }
    }, 1000);
    try {
      const done = await api("POST", "/restart-server");
      restartModal.hide();
      result("success", (done.status === "recreated" ?
        "Server recreated with its new settings (a new container; files kept). " :
        "Server restarted: the same container is running again. ") +
        '<a class="alert-link" id="open-lab" href="' + userUrl + '">Open JupyterLab</a>');
    } catch (e) {
      show($("restart-progress"), false);
      $("restart-error").textContent = "Restart failed: " + e.message;
      show($("restart-error"), true);
    } finally {
      clearInterval(ticker);
      $("restart-cancel").disabled = false;
      busy = false;
      refresh();
    }
  });

  // ---- volumes -----------------------------------------------------------------------------
  const volumesModal = new bootstrap.Modal($("volumes-modal"));
  const tbody = $("volumes-table").querySelector("tbody");

  function selected() {
    return Array.from(tbody.querySelectorAll("input[type=checkbox]:checked")).map((c) => c.value);
  }

  function updateConfirm() {
    const n = selected().length;
    $("volumes-confirm").disabled = n === 0;
    $("volumes-confirm").textContent = n ? "Delete " + n + " volume" + (n > 1 ? "s" : "") : "Delete selected volumes";
  }

  $("manage-volumes").addEventListener("click", async () => {
    show($("volumes-table"), false);
    show($("volumes-error"), false);
    show($("volumes-done"), false);
    show($("volumes-loading"), true);
    show($("volumes-confirm"), true);
    updateConfirm();
    volumesModal.show();
    try {
      const data = await api("GET", "/manage-volumes");
      tbody.innerHTML = "";
      for (const v of data.volumes) {
        const tr = document.createElement("tr");
        const id = "vol-" + v.key;
        tr.innerHTML =
          '<td><input class="form-check-input" type="checkbox"></td>' +
          '<td><label class="fw-semibold"></label></td><td class="small"></td>' +
          '<td><code class="small"></code></td><td class="text-end small"></td>';
        const box = tr.querySelector("input");
        box.id = id;
        box.value = v.key;
        box.disabled = !v.exists;
        tr.querySelector("label").htmlFor = id;
        tr.querySelector("label").textContent = v.key;
        tr.children[2].textContent = v.description;
        tr.querySelector("code").textContent = v.name;
        tr.children[4].textContent = v.exists ? (stellarsBytes(v.size_bytes) || "unknown") : "not created yet";
        box.addEventListener("change", updateConfirm);
        tbody.appendChild(tr);
      }
      const storage = data.storage || {};
      $("volumes-quota").textContent = storage.quota_bytes ? "Storage: " + storage.text + "." : "";
      $("volumes-quota").classList.toggle("text-danger", !!storage.over);
      show($("volumes-loading"), false);
      show($("volumes-table"), true);
    } catch (e) {
      show($("volumes-loading"), false);
      $("volumes-error").textContent = "Could not list volumes: " + e.message;
      show($("volumes-error"), true);
    }
  });

  $("volumes-confirm").addEventListener("click", async () => {
    const keys = selected();
    if (!keys.length) return;
    busy = true;
    $("volumes-confirm").disabled = true;
    $("volumes-confirm").innerHTML = '<span class="spinner-border spinner-border-sm"></span> Deleting…';
    show($("volumes-error"), false);
    try {
      const data = await api("DELETE", "/manage-volumes", { volumes: keys });
      const lines = data.volumes.map((r) => r.name + ": " + (r.status === "removed" ? "deleted" :
        r.status === "not_found" ? "did not exist" : "not deleted (" + (r.error || r.status) + ")"));
      $("volumes-done").innerHTML = lines.map((l) => "<div></div>").join("");
      $("volumes-done").querySelectorAll("div").forEach((d, i) => { d.textContent = lines[i]; });
      show($("volumes-done"), true);
      show($("volumes-table"), false);
      show($("volumes-confirm"), false);
      if (data.complete) {
        result("success", "Volumes reset. They are created again, empty, when the server next starts.");
      } else {
        result("warning", "Some volumes were not deleted; see the list above and try again.");
      }
    } catch (e) {
      $("volumes-error").textContent = "Nothing was deleted: " + e.message;
      show($("volumes-error"), true);
      updateConfirm();
    } finally {
      busy = false;
      refresh();
    }
  });

  // every 3 s while something happens, backing off to once a minute on an idle page
  const poller = window.stellarsPoll(refresh, 3000, 60000);
  root.addEventListener("click", () => poller.now()); // an action of the user: look again soon
})();
