// Policies page: list every group's policy, edit one in the form, show the hub's error as is.
(function () {
  const $ = (id) => document.getElementById(id);
  let groups = [];
  let editing = null;

  const text = (v) => (v === undefined || v === null ? "" : String(v));
  function limit(v, unit) {
    if (v === undefined || v === null) return "default";
    return v === 0 ? "no limit" : v + (unit ? " " + unit : "");
  }
  function gpus(v) {
    if (v === undefined || v === null) return "default";
    return Array.isArray(v) ? v.join(", ") : v;
  }

  // idle culling: the group's idle timeout and maximum age (seconds in the API)
  function duration(s) {
    return s % 3600 === 0 ? s / 3600 + " h" : s % 60 === 0 ? s / 60 + " min" : s + " s";
  }
  function culling(p) {
    const idle = p.idle_timeout_seconds, age = p.max_age_seconds;
    if ((idle === undefined || idle === null) && (age === undefined || age === null)) return "default";
    const parts = [];
    if (idle !== undefined && idle !== null) parts.push(idle === 0 ? "never idle-stopped" : "idle " + duration(idle));
    if (age !== undefined && age !== null) parts.push(age === 0 ? "no maximum age" : "age " + duration(age));
    return parts.join(", ");
  }
  const scaled = (v, unit) => (v === undefined || v === null ? "" : String(v / unit));
  function seconds(id, unit) {
    const v = number(id);
    return v === null ? null : Math.round(v * unit);
  }

  function cell(row, content) {
    const td = document.createElement("td");
    td.textContent = content;
    row.appendChild(td);
    return td;
  }

  function render() {
    const body = $("policies-table").querySelector("tbody");
    body.replaceChildren();
    $("policies-empty").hidden = groups.length > 0;
    for (const g of groups) {
      const p = Object.assign({}, g.policy, g.built_in || {});
      const row = document.createElement("tr");
      row.dataset.group = g.name;
      const name = cell(row, g.name);
      if (g.built_in) name.insertAdjacentHTML("beforeend", ' <span class="badge text-bg-secondary">built-in</span>');
      if (g.valid) name.insertAdjacentHTML("beforeend", ' <span class="badge text-bg-danger" title="">invalid, ignored</span>');
      if ((g.ignored_properties || []).length) {
        // written straight into JupyterHub's group properties (e.g. by a group-filtered token): no effect
        const badge = document.createElement("span");
        badge.className = "badge text-bg-warning ms-1 policy-ignored";
        badge.textContent = "ignored in group properties: " + g.ignored_properties.join(", ");
        badge.title = "Policies apply only when saved here; these JupyterHub group properties have no effect";
        name.appendChild(badge);
      }
      cell(row, g.members.length ? g.members.join(", ") : "none");
      cell(row, limit(p.memory_mb, "MiB"));
      cell(row, limit(p.cpus));
      cell(row, limit(p.pids));
      cell(row, gpus(p.gpus));
      cell(row, (p.mounts || []).map((m) => m.source + ":" + m.target + ":" + m.mode).join(" ") || "none");
      cell(row, Object.keys(p.env || {}).join(", ") || "none");
      cell(row, p.quota_gb ? p.quota_gb + " GB" : "none");
      cell(row, (p.profiles || []).map((x) => x.name).join(", ") || "none");
      cell(row, culling(p));
      const priv = [p.docker_sock ? "Docker socket" : "", p.privileged ? "privileged" : ""].filter(Boolean);
      const privCell = cell(row, priv.length ? priv.join(", ") + " (root on the host)" : "none");
      if (priv.length) privCell.classList.add("text-danger");
      const actions = document.createElement("td");
      const btn = document.createElement("button");
      btn.className = "btn btn-sm btn-outline-primary policy-edit";
      btn.textContent = "Edit";
      btn.addEventListener("click", () => edit(g));
      actions.appendChild(btn);
      row.appendChild(actions);
      body.appendChild(row);
    }
  }

  function edit(g) {
    editing = g;
    const p = g.policy || {};
    $("policy-group").textContent = g.name;
    $("p-memory").value = text(p.memory_mb);
    $("p-cpus").value = text(p.cpus);
    $("p-pids").value = text(p.pids);
    $("p-quota").value = text(p.quota_gb);
    $("p-idle").value = scaled(p.idle_timeout_seconds, 60);
    $("p-age").value = scaled(p.max_age_seconds, 3600);
    $("p-gpus").value = Array.isArray(p.gpus) ? "ids" : text(p.gpus);
    $("p-gpu-ids").value = Array.isArray(p.gpus) ? p.gpus.join(",") : "";
    $("p-env").value = Object.entries(p.env || {}).map(([k, v]) => k + "=" + v).join("\n");
    $("p-mounts").value = (p.mounts || []).map((m) => m.source + ":" + m.target + ":" + m.mode).join("\n");
    $("p-profiles").value = (p.profiles || []).map((x) => [x.name, x.image, text(x.memory_mb), text(x.cpus),
      Array.isArray(x.gpus) ? x.gpus.join(",") : text(x.gpus), text(x.description)].join(" | ").replace(/( \| )+$/, "")).join("\n");
    const b = g.built_in || {};
    $("p-sock").checked = !!(p.docker_sock || b.docker_sock);
    $("p-sock").disabled = !!b.docker_sock;
    $("p-priv").checked = !!(p.privileged || b.privileged);
    $("p-priv").disabled = !!b.privileged;
    $("policy-error").hidden = true;
    $("policy-saved").hidden = true;
    $("policy-form").hidden = false;
  }

  function number(id) {
    const v = $(id).value.trim();
    return v === "" ? null : Number(v);
  }

  function collect() {
    const body = { memory_mb: number("p-memory"), cpus: number("p-cpus"), pids: number("p-pids"),
      quota_gb: number("p-quota"), idle_timeout_seconds: seconds("p-idle", 60),
      max_age_seconds: seconds("p-age", 3600), docker_sock: $("p-sock").checked && !$("p-sock").disabled,
      privileged: $("p-priv").checked && !$("p-priv").disabled };
    const g = $("p-gpus").value;
    body.gpus = g === "" ? null : g === "ids" ? $("p-gpu-ids").value.split(",").map((s) => s.trim()).filter(Boolean) : g;
    body.env = {};
    for (const line of $("p-env").value.split("\n")) {
      if (!line.trim()) continue;
      const at = line.indexOf("=");
      // a line without "=" is sent as a name with an empty value; the hub names what is wrong
      body.env[at < 0 ? line.trim() : line.slice(0, at).trim()] = at < 0 ? "" : line.slice(at + 1);
    }
    body.mounts = [];
    for (const line of $("p-mounts").value.split("\n")) {
      if (!line.trim()) continue;
      const parts = line.trim().split(":");
      body.mounts.push({ source: parts[0], target: parts[1], mode: parts[2] || "ro" });
    }
    body.profiles = [];
    for (const line of $("p-profiles").value.split("\n")) {
      if (!line.trim()) continue;
      const [name, image, memory, cpus, gpu, ...rest] = line.split("|").map((x) => x.trim());
      const profile = { name, image };
      if (memory) profile.memory_mb = Number(memory);
      if (cpus) profile.cpus = Number(cpus);
      if (gpu) profile.gpus = gpu === "all" || gpu === "none" ? gpu : gpu.split(",").map((x) => x.trim()).filter(Boolean);
      if (rest.length && rest.join("|").trim()) profile.description = rest.join("|").trim();
      body.profiles.push(profile);
    }
    return body;
  }

  async function save(ev) {
    ev.preventDefault();
    $("policy-error").hidden = true;
    try {
      await window.stellarsApi("PUT", "groups/" + encodeURIComponent(editing.name) + "/policy", collect());
      $("policy-form").hidden = true;
      $("policy-saved").textContent = "Saved the policy of " + editing.name + ". It applies at each member's next start.";
      $("policy-saved").hidden = false;
      await load();
    } catch (err) {
      $("policy-error").textContent = err.message;
      $("policy-error").hidden = false;
    }
  }

  async function load() {
    const data = await window.stellarsApi("GET", "policies");
    groups = data.groups;
    const d = data.defaults;
    $("policy-defaults").textContent = (d.memory_mb ? d.memory_mb + " MiB" : "no memory limit") + ", " +
      (d.cpus ? d.cpus + " CPUs" : "no CPU limit") + ", " + (d.pids ? d.pids + " processes" : "no process limit");
    render();
  }

  async function loadStorage() {
    const rows = (await window.stellarsApi("GET", "storage")).users;
    const body = $("storage-table").querySelector("tbody");
    body.replaceChildren();
    $("storage-empty").hidden = rows.length > 0;
    for (const r of rows) {
      const row = document.createElement("tr");
      row.dataset.user = r.username;
      cell(row, r.username);
      cell(row, r.text);
      cell(row, r.from_groups.join(", "));
      const state = cell(row, r.over ? "over quota" : "within quota");
      if (r.over) state.classList.add("text-danger", "fw-bold");
      body.appendChild(row);
    }
  }

  $("policy-form").addEventListener("submit", save);
  loadStorage().catch(() => { $("storage-empty").hidden = false; $("storage-empty").textContent = "Storage use is not available (engine not answering)."; });
  $("policy-cancel").addEventListener("click", () => { $("policy-form").hidden = true; });
  load().catch((err) => {
    $("policy-error").textContent = err.message;
    $("policy-error").hidden = false;
    $("policy-form").hidden = false;
  });
})();
