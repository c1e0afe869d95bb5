// Accounts hand-off inside JupyterHub's admin panel (its React app is left as it is).
// The panel talks to the hub through window.fetch; this module watches those calls:
// - users created (POST api/users, api/users/<name>) -> a dialog with each new user's generated
//   password (copy all, copy a row, download a text file) until the passwords expire;
// - a user deleted (DELETE api/users/<name>) -> asks whether their volumes go too;
// - an edit refused (PATCH api/users/<name>) -> shows the hub's reason instead of a bare failure.
const jh = window.jhdata || {};
const apiRoot = (jh.base_url || "/hub/") + "api/";
const plainFetch = window.fetch.bind(window);

function apiPathOf(input) {
  const raw = input instanceof Request ? input.url : String(input);
  const url = new URL(raw, window.location.origin);
  return url.pathname.startsWith(apiRoot) ? url.pathname.slice(apiRoot.length) : null;
}

function hubApi(method, path, body) {
  return plainFetch(apiRoot + path, {
    method,
    headers: { "Content-Type": "application/json", "X-XSRFToken": jh.xsrf_token },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const SINGLE_USER = /^users\/([^/]+)$/;

window.fetch = async function stellarsAccountsFetch(input, init = {}) {
  const path = apiPathOf(input);
  const method = (init.method || (input instanceof Request ? input.method : "GET")).toUpperCase();
  if (path !== null && method === "DELETE" && SINGLE_USER.test(path)) {
    return confirmDelete(decodeURIComponent(path.match(SINGLE_USER)[1]), input, init);
  }
  const response = await plainFetch(input, init);
  if (path === null) return response;
  if (method === "POST" && response.status === 201 && (path === "users" || SINGLE_USER.test(path))) {
    response.clone().json().then((created) => {
      const names = (Array.isArray(created) ? created : [created]).map((u) => u.name);
      if (names.length) showCredentials(names);
    }).catch((err) => console.error("stellars: could not read the created users", err));
  } else if (method === "PATCH" && SINGLE_USER.test(path) && !response.ok) {
    response.clone().json()
      .then((err) => showMessage("The change was refused", err.message || `status ${response.status}`))
      .catch(() => {});
  }
  return response;
};

// -- small DOM helpers ------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
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

// -- generated passwords ----------------------------------------------------------------------
const RESET_HINT = "Reset a password on the Authorize Users page (Change password).";

async function showCredentials(names) {
  let data;
  try {
    const r = await hubApi("POST", "admin/credentials", { usernames: names });
    data = await r.json();
    if (!r.ok) throw new Error(data.message || `status ${r.status}`);
  } catch (err) {
    showMessage("Generated passwords unavailable", `${err.message}. ${RESET_HINT}`);
    return;
  }
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
  for (const name of data.expired || []) {
    rows.push(el("tr", { "data-username": name, class: "credential-missing" },
      el("td", { text: name }), el("td", { colspan: "2", class: "text-body-secondary", text: `no generated password available. ${RESET_HINT}` })));
  }
  const seconds = Math.min(...creds.map((c) => c.expires_in), data.ttl || 300);
  const until = new Date(Date.now() + seconds * 1000);
  const note = el("p", { class: "credentials-note",
    text: `Hand each person their password now. They are shown only here and only until ${until.toLocaleTimeString()}; nothing is stored unhashed. After that: ${RESET_HINT}` });
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
  const { root } = modal("stellars-credentials-modal", "New users and their passwords", el("div", {}, note, table),
    [copyAll, download, close]);
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

// -- delete with or without volumes -----------------------------------------------------------
function confirmDelete(name, input, init) {
  return new Promise((resolve, reject) => {
    let decided = false;
    const box = el("input", { class: "form-check-input", type: "checkbox", id: "stellars-delete-volumes" });
    const body = el("div", {},
      el("p", { text: `Delete ${name}? Their login goes with the account; their lab volumes (home, workspace, cache) are kept unless you tick the box.` }),
      el("div", { class: "form-check" }, box,
        el("label", { class: "form-check-label", for: "stellars-delete-volumes", text: "Also delete their volumes (cannot be undone)" })));
    const go = el("button", { type: "button", class: "btn btn-danger", id: "stellars-delete-confirm", text: "Delete user" });
    const cancel = el("button", { type: "button", class: "btn btn-secondary", "data-bs-dismiss": "modal", text: "Cancel" });
    const { root, handle } = modal("stellars-delete-modal", `Delete user ${name}`, body, [cancel, go]);
    go.addEventListener("click", () => {
      decided = true;
      handle.hide();
      const request = box.checked
        ? hubApi("DELETE", `admin/users/${encodeURIComponent(name)}`, { remove_volumes: true })
        : plainFetch(input, init);
      request.then(async (r) => {
        if (!r.ok) {
          const err = await r.clone().json().catch(() => ({}));
          showMessage(`${name} was not deleted`, err.message || `status ${r.status}`);
        }
        resolve(r);
      }, reject);
    });
    // cancelled: the panel's request simply never completes, so it shows no error
    root.addEventListener("hidden.bs.modal", () => { if (!decided) console.info(`stellars: deletion of ${name} cancelled`); });
  });
}
