// Admin lab access: the user's consent switch (home page) and the admin's "Open lab" button
// (/hub/manage/<user>).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const when = (iso) => new Date(iso).toLocaleString();

  const card = $("lab-access");
  if (card) {
    const user = encodeURIComponent(card.dataset.user);
    const sw = $("lab-access-switch");
    const hours = $("lab-access-hours");
    const stateText = $("lab-access-state");
    function show(s) {
      if (s.mode === "notified") {
        stateText.textContent = "Administrators may open your lab without asking on this hub; you are notified in your lab each time.";
      } else {
        stateText.textContent = s.consent ? "Allowed until " + when(s.consent_until) : "Administrators cannot open your lab.";
      }
      if (s.grants.length) stateText.textContent += " Opened by: " + s.grants.map((g) => g.admin).join(", ") + ".";
      sw.checked = s.consent;
      for (const o of [...hours.options]) if (parseInt(o.value, 10) > s.max_hours) o.remove();
      card.dataset.consent = s.consent ? "1" : "0";
    }
    async function load() { show(await window.stellarsApi("GET", "users/" + user + "/lab-access")); }
    sw.addEventListener("change", async () => {
      try {
        show(sw.checked
          ? await window.stellarsApi("PUT", "users/" + user + "/lab-access/consent", { hours: parseInt(hours.value, 10) })
          : await window.stellarsApi("DELETE", "users/" + user + "/lab-access/consent"));
      } catch (err) {
        stateText.textContent = err.message;
        sw.checked = !sw.checked;
      }
    });
    load().catch((err) => { stateText.textContent = err.message; });
  }

  const open = $("lab-access-open");
  if (open) {
    open.addEventListener("click", async () => {
      const result = $("lab-access-result");
      try {
        const r = await window.stellarsApi("POST", "users/" + encodeURIComponent(open.dataset.user) + "/lab-access");
        result.className = "small text-success";
        result.textContent = "Access until " + when(r.until) + "; " + (r.notified ? "the user was notified." : "the lab is not running.");
        window.open(r.url, "_blank");
      } catch (err) {
        result.className = "small text-danger";
        result.textContent = err.message;
      }
    });
  }
})();
