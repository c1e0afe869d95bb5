// The groups' project folders (templates/project-folders.html): listed with their sizes; on the
// Policies page also created, given viewers and removed (each through the hub's API).
(function () {
  "use strict";
  const box = document.getElementById("project-folders");
  if (!box) return;
  const manage = box.dataset.manage === "1";
  const $ = (id) => document.getElementById(id);
  const show = (el, on) => el && el.classList.toggle("d-none", !on);

  function td(text, cls) {
    const el = document.createElement("td");
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  }
  function say(ok, text) {
    show($("project-error"), !ok);
    show($("project-done"), ok);
    $(ok ? "project-done" : "project-error").textContent = text;
  }

  async function act(method, path, body, done) {
    try {
      await window.stellarsApi(method, path, body);
      say(true, done);
      await load();
    } catch (err) {
      say(false, err.message);
    }
  }

  function viewersSelect(folder, groups) {
    const select = document.createElement("select");
    select.className = "form-select form-select-sm w-auto d-inline-block project-viewers-select";
    select.setAttribute("aria-label", "Viewers of " + folder.group);
    select.add(new Option("none", ""));
    for (const g of groups) if (g !== folder.group) select.add(new Option(g, g, false, g === folder.viewers));
    return select;
  }

  function row(folder, groups) {
    const tr = document.createElement("tr");
    tr.dataset.group = folder.group;
    tr.dataset.volume = folder.volume;
    tr.append(td(folder.group), td(folder.volume, "font-monospace small"), td(folder.kept ? "nobody (kept)" : folder.target),
      td(folder.members.join(", ") || "none"));
    if (manage && !folder.kept) {
      const cell = document.createElement("td");
      const select = viewersSelect(folder, groups);
      select.addEventListener("change", () => act("PATCH", "groups/" + encodeURIComponent(folder.group) + "/project",
        { viewers: select.value || null }, "Viewers of " + folder.group + "'s folder changed; they apply at each viewer's next start."));
      cell.appendChild(select);
      tr.appendChild(cell);
    } else {
      tr.appendChild(td(folder.viewers || "none"));
    }
    tr.append(td(folder.size_bytes === null ? "\u2026" : window.stellarsBytes(folder.size_bytes), "text-end text-nowrap project-size"),
      td(folder.kept ? "kept: group deleted" : "in use", folder.kept ? "text-warning" : ""));
    if (manage) {
      const cell = document.createElement("td");
      cell.className = "text-nowrap";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-sm btn-outline-danger project-remove";
      remove.textContent = "Remove…";
      remove.addEventListener("click", () => {
        if (!window.confirm("Remove the project folder of " + folder.group + " (" + folder.volume + ")? Its files are deleted for good " +
          "(backup archives stay in the backup target)." )) return;
        act("DELETE", "projects/" + encodeURIComponent(folder.volume), undefined, "Removed " + folder.volume + ".");
      });
      cell.appendChild(remove);
      tr.appendChild(cell);
    }
    return tr;
  }

  async function load() {
    const folders = (await window.stellarsApi("GET", "projects")).folders;
    let groups = [];
    if (manage) {
      groups = (await window.stellarsApi("GET", "policies")).groups.map((g) => g.name);
      const have = new Set(folders.filter((f) => !f.kept).map((f) => f.group));
      const pick = $("project-group");
      const viewers = $("project-viewers");
      const chosen = pick.value;
      pick.replaceChildren();
      viewers.replaceChildren(new Option("none", ""));
      for (const g of groups) {
        if (!have.has(g)) pick.add(new Option(g, g, false, g === chosen));
        viewers.add(new Option(g, g));
      }
      $("project-create-button").disabled = pick.options.length === 0;
    }
    const body = document.querySelector("#project-table tbody");
    body.replaceChildren(...folders.map((f) => row(f, groups)));
    $("project-empty").hidden = folders.length > 0;
    box.dataset.loaded = String(Date.now());
  }

  if (manage) {
    $("project-create").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const group = $("project-group").value;
      act("POST", "groups/" + encodeURIComponent(group) + "/project", { viewers: $("project-viewers").value || null },
        "Created the project folder of " + group + ": members' labs mount it at /mnt/groups/" + group + " from their next start.");
    });
  }
  load().catch((err) => { $("project-empty").hidden = false; $("project-empty").textContent = err.message; });
})();
