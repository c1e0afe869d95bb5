// Home page: "Share my lab" (per running lab: who has it, who is in, share with a user or a group,
// invitation links) and "Shared with me". State from GET users/<me>/sharing; changes go to
// JupyterHub's own sharing API (/shares, /share-codes), which the platform makes open the lab.
(function () {
  "use strict";
  const card = document.getElementById("lab-sharing");
  if (!card) return;
  const me = card.dataset.user;
  const api = window.stellarsApi;
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const at = (iso) => (iso ? new Date(iso).toLocaleString() : "");
  const serverPath = (server) => enc(me) + "/" + enc(server);
  let last = "";
  let openLink = {}; // server -> the link just created (shown until the page reloads)

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fail(err) {
    $("lab-sharing-error").textContent = err.message;
    $("lab-sharing-error").classList.remove("d-none");
  }

  async function act(fn) {
    $("lab-sharing-error").classList.add("d-none");
    try {
      await fn();
    } catch (err) {
      fail(err);
    }
    poll.now();
  }

  function labTitle(server) {
    return server ? "Lab '" + server + "'" : "My lab";
  }

  function recipientRow(s, server) {
    const li = el("li", "list-group-item d-flex flex-wrap align-items-center gap-2 px-0 share-recipient");
    li.dataset.kind = s.kind;
    li.dataset.name = s.name;
    li.append(el("span", "fw-semibold", s.kind === "group" ? "group " + s.name : s.name));
    if (!s.opens) li.append(el("span", "badge text-bg-secondary", "JupyterHub share (does not open the lab)"));
    if (s.in_lab.length) {
      const who = s.in_lab.map((v) => (s.kind === "group" ? v.user + " " : "") + "since " + at(v.since)).join(", ");
      li.append(el("span", "badge text-bg-success share-in-lab", "in the lab " + who));
    }
    const revoke = el("button", "btn btn-sm btn-outline-danger ms-auto share-revoke", "Revoke");
    revoke.type = "button";
    revoke.addEventListener("click", () =>
      act(() => api("PATCH", "shares/" + serverPath(server), { [s.kind]: s.name })));
    li.append(revoke);
    return li;
  }

  function shareForm(server) {
    const form = el("form", "row g-2 align-items-center mt-1 share-form");
    form.noValidate = true;
    const kind = el("select", "form-select form-select-sm share-kind");
    kind.setAttribute("aria-label", "Share with a user or a group");
    for (const [v, t] of [["user", "user"], ["group", "group"]]) {
      const o = el("option", "", t);
      o.value = v;
      kind.append(o);
    }
    const name = el("input", "form-control form-control-sm share-name");
    Object.assign(name, { type: "text", placeholder: "name", autocomplete: "off" });
    name.setAttribute("aria-label", "Name of the user or group");
    const go = el("button", "btn btn-sm btn-primary share-submit", "Share");
    go.type = "submit";
    const cols = [el("div", "col-auto"), el("div", "col-auto"), el("div", "col-auto")];
    cols[0].append(kind);
    cols[1].append(name);
    cols[2].append(go);
    form.append(...cols);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const who = name.value.trim();
      if (!who) return;
      act(async () => {
        await api("POST", "shares/" + serverPath(server), { [kind.value]: who });
        name.value = "";
      });
    });
    return form;
  }

  function linkControls(server, links) {
    const box = el("div", "mt-2 share-links");
    const row = el("div", "d-flex flex-wrap align-items-center gap-2");
    const expiry = el("select", "form-select form-select-sm w-auto share-link-expiry");
    expiry.setAttribute("aria-label", "Invitation link valid for");
    for (const [secs, t] of [[3600, "valid 1 hour"], [86400, "valid 1 day"], [604800, "valid 7 days"]]) {
      const o = el("option", "", t);
      o.value = String(secs);
      expiry.append(o);
    }
    expiry.value = "86400";
    const make = el("button", "btn btn-sm btn-outline-primary share-link-create", "Invitation link");
    make.type = "button";
    make.addEventListener("click", () => act(async () => {
      const r = await api("POST", "share-codes/" + serverPath(server), { expires_in: parseInt(expiry.value, 10) });
      openLink[server] = r.full_accept_url || new URL(r.accept_url, window.location.href).href;
    }));
    row.append(make, expiry);
    box.append(row);
    if (openLink[server]) {
      const shown = el("div", "input-group input-group-sm mt-2");
      const input = el("input", "form-control font-monospace share-link-url");
      Object.assign(input, { type: "text", readOnly: true, value: openLink[server] });
      input.setAttribute("aria-label", "Invitation link");
      const copy = el("button", "btn btn-outline-secondary", "Copy");
      copy.type = "button";
      copy.addEventListener("click", () => { input.select(); navigator.clipboard?.writeText(input.value); });
      shown.append(input, copy);
      box.append(shown, el("div", "small text-body-secondary", "Shown once: whoever opens it while it is valid gets your lab until you revoke them."));
    }
    if (links.length) {
      const ul = el("ul", "list-unstyled small mt-2 mb-0");
      for (const l of links) {
        const li = el("li", "d-flex align-items-center gap-2 share-link");
        li.append(el("span", "", "Link " + l.id + ": valid until " + at(l.expires_at) + ", used " + l.exchange_count + "×"));
        const del = el("button", "btn btn-sm btn-link text-danger p-0 share-link-delete", "delete");
        del.type = "button";
        del.addEventListener("click", () => act(() => api("DELETE", "share-codes/" + serverPath(server) + "?id=" + enc(l.id))));
        li.append(del);
        ul.append(li);
      }
      box.append(ul);
    }
    return box;
  }

  function renderServers(servers) {
    const box = $("lab-sharing-servers");
    box.replaceChildren();
    for (const s of servers) {
      const section = el("div", "border rounded p-2 mb-2 share-server");
      section.dataset.server = s.server;
      const head = el("div", "d-flex align-items-center gap-2");
      head.append(el("strong", "", labTitle(s.server)));
      head.append(el("span", "badge " + (s.ready ? "text-bg-success" : "text-bg-secondary"), s.ready ? "running" : "stopped"));
      section.append(head);
      const list = el("ul", "list-group list-group-flush share-recipients");
      for (const share of s.shares) list.append(recipientRow(share, s.server));
      if (!s.shares.length) list.append(el("li", "list-group-item px-0 small text-body-secondary", "Not shared with anybody."));
      section.append(list);
      if (s.ready) {
        section.append(shareForm(s.server), linkControls(s.server, s.links));
      } else if (s.links.length) {
        section.append(linkControls(s.server, s.links));
      }
      box.append(section);
    }
    $("lab-sharing-none").classList.toggle("d-none", servers.some((s) => s.ready));
  }

  function renderSharedWithMe(items) {
    const box = $("shared-with-me");
    const ul = $("shared-with-me-list");
    ul.replaceChildren();
    box.classList.toggle("d-none", !items.length);
    for (const it of items) {
      const li = el("li", "list-group-item d-flex flex-wrap align-items-center gap-2 px-0 shared-lab");
      li.dataset.owner = it.owner;
      li.dataset.server = it.server;
      li.append(el("span", "fw-semibold", it.owner + "'s lab" + (it.server ? " '" + it.server + "'" : "")));
      if (it.via !== "user") li.append(el("span", "small text-body-secondary", "(shared with " + it.via + ")"));
      if (it.ready) {
        const open = el("a", "btn btn-sm btn-primary ms-auto shared-open", "Open");
        open.href = it.url;
        open.target = "_blank";
        open.rel = "noopener";
        li.append(open);
      } else {
        li.append(el("span", "badge text-bg-secondary ms-auto", "not running"));
      }
      if (it.via === "user") {
        const leave = el("button", "btn btn-sm btn-outline-secondary shared-leave", "Leave");
        leave.type = "button";
        leave.addEventListener("click", () =>
          act(() => api("DELETE", "users/" + enc(me) + "/shared/" + enc(it.owner) + "/" + enc(it.server))));
        li.append(leave);
      }
      ul.append(li);
    }
  }

  async function check() {
    const data = await api("GET", "users/" + enc(me) + "/sharing");
    const key = JSON.stringify([data.servers, data.shared_with_me, openLink]);
    if (key === last) return false;
    last = key;
    renderServers(data.servers);
    renderSharedWithMe(data.shared_with_me);
    card.dataset.loaded = "1";
    return true;
  }

  const poll = window.stellarsPoll(check, 5000, 60000);
})();
