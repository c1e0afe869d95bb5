// Account actions on the platform's own pages (JupyterHub's React admin panel is left as it is):
// - admin page, above the panel: open a user's own page, and the generated passwords of users
//   just added (copy all, copy a row, download a text file) until they expire;
// - /hub/manage/<user>: rename, and delete with or without the volumes, showing the hub's reason
//   when it refuses.
// Every call goes through window.stellarsApi (stellars-api.js).
const api = window.stellarsApi;
const base = window.jhdata.base_url;
const $ = (id) => document.getElementById(id);

// -- small DOM helpers ------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function modal(id, title, body, footer) {
  document.getElementById(id)?.remove();
  const root = el("div", { class: "modal fade", id, tabindex: "-1", "aria-labelledby": `${id}-title`, "aria-hidden": "true" },
    el("div", { class: "modal-dialog modal-lg" },
      el("div", { class: "modal-content" },
        el("div", { class: "modal-header" },
          el("h5", { class: "modal-title", id: `${id}-title`, text: title }),
          el("button", { type: "button", class: "btn-close", "data-bs-dismiss": "modal", "aria-label": "Close" })),
        el("div", { class: "modal-body" }, body),
        el("div", { class: "modal-footer" }, ...footer))));
  document.body.append(root);
  const handle = new window.bootstrap.Modal(root);
  root.addEventListener("hidden.bs.modal", () => root.remove());
  handle.show();
  return { root, handle };
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // plain-http hubs have no clipboard API: fall back to a selected text area
    const area = el("textarea", { style: "position:fixed;opacity:0" });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

function flash(button, label) {
  const before = button.textContent;
  button.textContent = label;
  setTimeout(() => { button.textContent = before; }, 1500);
}

function showMessage(title, text) {
  modal("stellars-accounts-message", title, el("p", { class: "mb-0", text }),
    [el("button", { type: "button", class: "btn btn-primary", "data-bs-dismiss": "modal", text: "OK" })]);
}

// -- admin page: open a user's page -----------------------------------------------------------
const manageForm = $("stellars-manage-form");
if (manageForm) {
  manageForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("stellars-manage-name").value.trim();
    if (name) window.location.assign(base + "manage/" + encodeURIComponent(name));
  });
  // suggestions only: the first page of users is plenty to pick from while typing
  api("GET", "users?limit=200").then((users) => {
    const list = $("stellars-user-names");
    for (const u of users) list.append(el("option", { value: u.name }));
  }).catch((err) => console.warn("stellars: user names for suggestions unavailable:", err.message));
}

// -- admin page: generated passwords ----------------------------------------------------------
const RESET_HINT = "Reset a password on the Authorize Users page (Change password).";

function credentialsDialog(data) {
  const creds = data.credentials || [];
  const lines = () => creds.map((c) => `${c.username}\t${c.password}`).join("\n") + "\n";
  const rows = creds.map((c) => {
    const copy = el("button", { type: "button", class: "btn btn-sm btn-outline-secondary copy-row", text: "Copy" });
    copy.addEventListener("click", async () => flash(copy, (await copyText(`${c.username}\t${c.password}`)) ? "Copied" : "Copy failed"));
    return el("tr", { "data-username": c.username },
      el("td", { class: "credential-username", text: c.username }),
      el("td", {}, el("code", { class: "credential-password", text: c.password })),
      el("td", { class: "text-end" }, copy));
  });
  const seconds = Math.min(...creds.map((c) => c.expires_in), data.ttl || 300);
  const until = new Date(Date.now() + seconds * 1000);
  const note = el("p", { class: "credentials-note" });
  note.textContent = creds.length
    ? `Hand each person their password now. They are shown only here and only until ${until.toLocaleTimeString()}; nothing is stored unhashed. After that: ${RESET_HINT}`
    : `No generated password is in memory: none of the users added in the last few minutes has one left. ${RESET_HINT}`;
  const table = el("table", { class: "table table-sm align-middle", id: "stellars-credentials-table" },
    el("thead", {}, el("tr", {}, el("th", { text: "User" }), el("th", { text: "Password" }), el("th", {}))),
    el("tbody", {}, ...rows));
  const copyAll = el("button", { type: "button", class: "btn btn-outline-primary", id: "stellars-copy-all", text: "Copy all" });
  const download = el("button", { type: "button", class: "btn btn-outline-primary", id: "stellars-download", text: "Download .txt" });
  const close = el("button", { type: "button", class: "btn btn-primary", "data-bs-dismiss": "modal", text: "Done" });
  copyAll.addEventListener("click", async () => flash(copyAll, (await copyText(lines())) ? "Copied" : "Copy failed"));
  download.addEventListener("click", () => {
    const link = el("a", { href: URL.createObjectURL(new Blob([lines()], { type: "text/plain" })),
      download: `new-users-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}.txt` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });
  if (!creds.length) { copyAll.disabled = true; download.disabled = true; }
  const { root } = modal("stellars-credentials-modal", "New users and their passwords",
    el("div", {}, note, creds.length ? table : null), [copyAll, download, close]);
  if (!creds.length) return;
  const expire = () => {
    creds.length = 0; // forget them here too
    root.querySelectorAll(".credential-password").forEach((code) => { code.textContent = "expired"; });
    root.querySelectorAll(".copy-row").forEach((b) => b.remove());
    copyAll.disabled = true;
    download.disabled = true;
    note.textContent = `These passwords have expired and are no longer available. ${RESET_HINT}`;
    note.classList.add("alert", "alert-warning");
  };
  const timer = setTimeout(expire, seconds * 1000);
  root.addEventListener("hidden.bs.modal", () => { clearTimeout(timer); creds.length = 0; });
}

const showCredentials = $("stellars-show-credentials");
if (showCredentials) {
  showCredentials.addEventListener("click", async () => {
    showCredentials.disabled = true;
    try {
      credentialsDialog(await api("GET", "admin/credentials"));
    } catch (err) {
      showMessage("Generated passwords unavailable", `${err.message}. ${RESET_HINT}`);
    } finally {
      showCredentials.disabled = false;
    }
  });
}

// -- a user's page: rename and delete ---------------------------------------------------------
const account = $("account-actions");
if (account) {
  const user = account.dataset.user;
  const result = (kind, text) => {
    const box = $("account-result");
    box.replaceChildren(text ? el("div", { class: `alert alert-${kind}`, text }) : "");
  };

  $("rename-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const wanted = $("rename-input").value.trim();
    if (!wanted || wanted === user) return;
    $("rename-submit").disabled = true;
    result();
    try {
      const renamed = await api("PATCH", "users/" + encodeURIComponent(user), { name: wanted });
      window.location.assign(base + "manage/" + encodeURIComponent(renamed.name));
    } catch (err) {
      result("danger", `${user} was not renamed: ${err.message}`);
      $("rename-submit").disabled = false;
    }
  });

  const dialog = $("delete-user-modal");
  if (dialog) {
    const handle = new window.bootstrap.Modal(dialog);
    $("delete-user-open").addEventListener("click", () => {
      $("delete-volumes").checked = false;
      $("delete-user-error").classList.add("d-none");
      $("delete-user-confirm").disabled = false;
      handle.show();
    });
    $("delete-user-confirm").addEventListener("click", async () => {
      $("delete-user-confirm").disabled = true;
      const removeVolumes = $("delete-volumes").checked;
      try {
        const done = await api("DELETE", "admin/users/" + encodeURIComponent(user), { remove_volumes: removeVolumes });
        handle.hide();
        const what = done.volumes.map((v) => `${v.name}: ${v.status.replace("_", " ")}`).join(", ");
        result("success", `${user} was deleted. Volumes: ${what}.`);
        document.querySelectorAll("#selfservice, #rename-form, #delete-user-open").forEach((n) => n.remove());
        account.append(el("a", { href: base + "admin", id: "back-to-admin", text: "Back to the admin panel" }));
      } catch (err) {
        $("delete-user-error").textContent = `${user} was not deleted: ${err.message}`;
        $("delete-user-error").classList.remove("d-none");
        $("delete-user-confirm").disabled = false;
      }
    });
  }
}
