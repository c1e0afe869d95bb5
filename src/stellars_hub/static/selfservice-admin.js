// Admin panel (JupyterHub's React app): one "Restart / Volumes" link per user row, leading to
// the per-user page with the same self-service actions users see on their home page.
(function () {
  "use strict";
  const base = window.jhdata.base_url;

  function decorate() {
    document.querySelectorAll("tr.user-row").forEach((row) => {
      const actions = row.querySelector('[data-testid="user-row-server-activity"]');
      const nameEl = row.querySelector('[data-testid^="user-name-div-"]');
      if (!actions || !nameEl || actions.querySelector(".stellars-manage")) return;
      const link = document.createElement("a");
      link.className = "btn btn-light btn-xs stellars-manage";
      link.href = base + "manage/" + encodeURIComponent(nameEl.textContent.trim());
      link.textContent = "Restart / Volumes";
      link.title = "Restart this user's server in place, or reset their volumes";
      actions.appendChild(link);
    });
  }

  const hook = document.getElementById("react-admin-hook") || document.body;
  new MutationObserver(decorate).observe(hook, { childList: true, subtree: true });
  decorate();
})();
