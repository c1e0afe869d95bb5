// Backups: the admin overview (/hub/backups), a user's last backup on the home page, and the
// restore controls on /hub/manage/<user>.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");
  function td(text, cls) {
    const el = document.createElement("td");
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  }
  function outcomeText(v) {
    if (!v.outcome) return "not yet";
    if (v.outcome === "failed") return "failed: " + (v.error || "unknown error");
    if (v.outcome === "busy") return "skipped (busy): " + (v.error || "");
    return v.outcome;
  }
  const outcomeClass = { ok: "text-success", unchanged: "text-success", failed: "text-danger fw-semibold", busy: "text-warning" };

  // -- admin overview --------------------------------------------------------------------
  async function overview() {
    const tbody = document.querySelector("#backups-table tbody");
    try {
      const data = await window.stellarsApi("GET", "backups");
      tbody.replaceChildren();
      // the hub's own state and the volumes of no single user first, under "(hub)"; then users'
      // volumes; then the groups' project folders ("group <name>", volume "project")
      const projects = (data.projects || []).map((p) => ({ username: "group " + p.group, group: p.group, volumes: p.volumes }));
      for (const u of [{ username: "(hub)", volumes: data.hub || [] }, ...data.users, ...projects]) {
        for (const v of u.volumes) {
          const tr = document.createElement("tr");
          tr.dataset.username = u.username;
          if (u.group !== undefined) tr.dataset.group = u.group;
          tr.dataset.volume = v.key;
          tr.append(td(u.username), td(v.key), td(when(v.last_run)),
            td(outcomeText(v), "backups-outcome " + (outcomeClass[v.outcome] || "")),
            td(v.archive || ""), td(stellarsBytes(v.size_bytes), "text-end"));
          tbody.appendChild(tr);
        }
      }
      const r = data.last_round;
      $("backups-round").textContent = data.running ? "A round is running…" :
        r ? `Last round ${when(r.finished)}: ${r.ok} written, ${r.unchanged} unchanged, ${r.failed} failed, ${r.busy} busy.` : "No round yet since the hub started.";
      $("backups-page").dataset.loaded = String(Date.now());
    } catch (err) {
      $("backups-error").textContent = err.message;
      $("backups-error").classList.remove("d-none");
    }
  }
  if ($("backups-page")) {
    overview();
    setInterval(overview, 10000);
    const run = $("backups-run");
    if (run) run.addEventListener("click", async () => {
      try { await window.stellarsApi("POST", "backups/run"); } catch (err) { alert(err.message); }
      setTimeout(overview, 1000);
    });
  }

  // -- a user's last backup (home page) ---------------------------------------------------
  const home = $("backup-status");
  if (home) {
    window.stellarsApi("GET", "users/" + encodeURIComponent(home.dataset.user) + "/backups?generations=0").then((d) => {
      if (!d.enabled) return;
      const failed = d.failed.length ? ` (last attempt failed for ${d.failed.join(", ")}: your administrator has been shown why)` : "";
      home.textContent = "Last backup of your files: " + when(d.last_backup) + failed;
      home.classList.toggle("text-danger", d.failed.length > 0);
      home.classList.remove("d-none");
    }).catch(() => {});
  }

  // -- restore (admins, /hub/manage/<user>) -------------------------------------------------
  const box = $("backup-restore");
  if (box) {
    const user = box.dataset.user;
    const list = $("backup-restore-list");
    const dialog = $("backup-restore-dialog");
    let choice = null;
    async function load() {
      try {
        const d = await window.stellarsApi("GET", "users/" + encodeURIComponent(user) + "/backups");
        if (!d.enabled) { list.textContent = "Scheduled backups are off."; return; }
        list.replaceChildren();
        for (const v of d.volumes) {
          const row = document.createElement("div");
          row.className = "d-flex flex-wrap align-items-center gap-2 mb-2";
          row.dataset.volume = v.key;
          const label = document.createElement("span");
          label.className = "fw-semibold";
          label.textContent = v.key + " (" + v.volume + "): " + outcomeText(v);
          const select = document.createElement("select");
          select.className = "form-select form-select-sm w-auto backup-generation";
          select.setAttribute("aria-label", "Generation of " + v.key);
          for (const g of v.generations) select.add(new Option(when(g.time) + " · " + stellarsBytes(g.size_bytes), g.archive));
          const btn = document.createElement("button");
          btn.type = "button";
          btn.className = "btn btn-outline-danger btn-sm backup-restore-button";
          btn.textContent = "Restore…";
          btn.disabled = v.generations.length === 0;
          btn.addEventListener("click", () => {
            choice = { volume: v.key, archive: select.value };
            $("backup-restore-what").textContent = `${v.volume} from ${select.value}`;
            window.bootstrap.Modal.getOrCreateInstance(dialog).show();
          });
          row.append(label, select, btn);
          list.appendChild(row);
        }
      } catch (err) {
        list.textContent = err.message;
      }
    }
    $("backup-restore-confirm").addEventListener("click", async () => {
      const result = $("backup-restore-result");
      try {
        const r = await window.stellarsApi("POST", "users/" + encodeURIComponent(user) + "/backups/restore", choice);
        result.className = "alert alert-success";
        result.textContent = `Restored ${r.volume} from ${r.archive}.`;
      } catch (err) {
        result.className = "alert alert-danger";
        result.textContent = err.message;
      }
      window.bootstrap.Modal.getOrCreateInstance(dialog).hide();
    });
    load();
  }
})();
