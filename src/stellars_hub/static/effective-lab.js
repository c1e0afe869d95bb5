// "My lab" card: the effective lab from GET users/<name>/lab, own variables via .../environment.
(function () {
  "use strict";
  const card = document.getElementById("effective-lab");
  if (!card) return;
  const path = "users/" + encodeURIComponent(card.dataset.user);
  const $ = (id) => document.getElementById(id);
  const show = (el, on) => el.classList.toggle("d-none", !on);
  const from = (lab, field) => (lab.sources[field] ? "from " + lab.sources[field].join(", ") : "default");

  function fillProfile(lab) {
    // the profile the next start gets (the one JupyterHub remembered for the server)
    const offered = lab.profiles || [];
    show($("lab-profile-row"), offered.length > 0);
    if (lab.profile) {
      $("lab-profile").textContent = lab.profile.name + (lab.profile.description ? " (" + lab.profile.description + ")" : "");
      $("lab-profile-from").textContent = "from " + lab.profile.groups.join(", ") + "; Start asks, Restart Server keeps it";
    } else if (lab.profile_problem) {
      $("lab-profile").textContent = lab.profile_problem;
      $("lab-profile-from").textContent = "choose another when you start";
    }
    $("lab-image").textContent = lab.image || "\u2013";
    $("lab-profiles").textContent = offered.length ? "offered: " + offered.map((p) => p.name).join(", ") : "";
  }

  function fill(lab, groups, quota) {
    fillProfile(lab);
    $("lab-memory").textContent = lab.memory_mb ? (lab.memory_mb >= 1024 ? (lab.memory_mb / 1024).toFixed(1) + " GiB" : lab.memory_mb + " MiB") : "no limit";
    $("lab-memory-from").textContent = from(lab, "memory_mb");
    $("lab-cpus").textContent = lab.cpus ? String(lab.cpus) : "no limit";
    $("lab-cpus-from").textContent = from(lab, "cpus");
    $("lab-pids").textContent = lab.pids ? String(lab.pids) : "no limit";
    $("lab-pids-from").textContent = from(lab, "pids");
    $("lab-gpus").textContent = Array.isArray(lab.gpus) ? "devices " + lab.gpus.join(", ") : lab.gpus;
    $("lab-gpus-from").textContent = from(lab, "gpus");
    const mounts = lab.mounts.map((m) => ({ ...m, from: m.groups.join(", ") }))
      .concat((lab.projects || []).map((m) => ({ ...m, from: "project folder of " + m.group })));
    $("lab-mounts").textContent = mounts.length ? mounts.map((m) =>
      m.target + " (" + m.source + ", " + (m.mode === "rw" ? "read-write" : "read-only") + ", from " + m.from + ")").join("; ") : "none";
    const priv = [lab.docker_sock ? "Docker socket" : "", lab.privileged ? "privileged container" : ""].filter(Boolean);
    $("lab-privileges").textContent = priv.length ? priv.join(", ") : "none";
    $("lab-privileges-from").textContent = priv.length ? "from " + [...new Set([...(lab.sources.docker_sock || []), ...(lab.sources.privileged || [])])].join(", ") : "";
    $("lab-storage").textContent = quota && quota.quota_bytes ? quota.text : lab.quota_gb ? "quota " + lab.quota_gb + " GB" : "no quota";
    $("lab-storage-from").textContent = lab.quota_gb ? from(lab, "quota_gb") : "";
    $("lab-groups").textContent = groups.length ? groups.join(", ") : "none";
    const groupEnv = Object.keys(lab.env);
    $("lab-group-env").textContent = groupEnv.length ? "Set by your groups (their values win): " + groupEnv.join(", ") : "";
  }

  async function load() {
    const data = await window.stellarsApi("GET", path + "/lab");
    let quota = null;
    try { quota = await window.stellarsApi("GET", path + "/storage"); } catch (e) { /* no quota feature or engine down */ }
    fill(data.lab, data.groups, quota);
    const env = (await window.stellarsApi("GET", path + "/environment")).environment;
    $("lab-env").value = Object.entries(env).map(([k, v]) => k + "=" + v).join("\n");
  }

  $("lab-env-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    show($("lab-env-error"), false);
    show($("lab-env-saved"), false);
    const environment = {};
    for (const line of $("lab-env").value.split("\n")) {
      if (!line.trim()) continue;
      const at = line.indexOf("=");
      environment[at < 0 ? line.trim() : line.slice(0, at).trim()] = at < 0 ? "" : line.slice(at + 1);
    }
    try {
      await window.stellarsApi("PUT", path + "/environment", { environment });
      $("lab-env-saved").textContent = "Saved. They apply at your next start; Restart Server recreates your lab with them.";
      show($("lab-env-saved"), true);
    } catch (err) {
      $("lab-env-error").textContent = err.message;
      show($("lab-env-error"), true);
    }
  });
  load().catch(() => show(card, false));
})();
