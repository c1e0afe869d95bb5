// One way for the platform's pages to call the hub API: the session cookie plus JupyterHub's
// XSRF token, JSON in and out, and errors carrying the hub's own message ({"status", "message"}).
window.stellarsApi = async function (method, path, body) {
  const resp = await fetch(window.jhdata.base_url + "api/" + path, {
    method,
    headers: { "X-XSRFToken": window.jhdata.xsrf_token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = {};
  try { data = await resp.json(); } catch (e) { /* empty or not JSON */ }
  if (!resp.ok) {
    const err = new Error(data.message || "the hub answered " + resp.status + " " + resp.statusText);
    err.status = resp.status;
    throw err;
  }
  return data;
};

// Polling that costs the hub little when nobody looks. `check` resolves to true when what it
// shows changed: an unchanged answer doubles the wait (up to maxMs), a change brings it back to
// minMs. A hidden tab is not polled at all and is checked at once when shown again.
// Returns {now(), stop()}: now() checks at once and restarts from minMs (after an action).
window.stellarsPoll = function (check, minMs, maxMs) {
  let wait = minMs;
  let timer = null;
  let stopped = false;
  const schedule = (ms) => {
    clearTimeout(timer);
    timer = stopped ? null : setTimeout(run, ms);
  };
  async function run() {
    timer = null;
    if (document.visibilityState === "hidden") return; // visibilitychange resumes
    let changed = false;
    try { changed = await check(); } catch (e) { /* the next look tries again */ }
    wait = changed ? minMs : Math.min(maxMs, wait * 2);
    if (timer === null) schedule(wait);
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") { wait = minMs; schedule(0); }
  });
  schedule(0);
  return {
    now() { wait = minMs; schedule(0); },
    stop() { stopped = true; clearTimeout(timer); timer = null; },
  };
};

// A size for people: "1.5 GB" ("" when unknown).
window.stellarsBytes = function (n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
};

// The session cards' countdown: "HH:MM:SS" (with days when needed) until the culler's stop, and
// the colour level of the time left.
window.stellarsCountdown = {
  clock(seconds) {
    if (seconds <= 0) return "any moment now";
    const pad = (n) => String(n).padStart(2, "0");
    let s = Math.floor(seconds);
    const d = Math.floor(s / 86400);
    s %= 86400;
    const hms = `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
    return d ? `${d} d ${hms}` : hms;
  },
  level: (seconds) => (seconds < 1800 ? "red" : seconds < 3600 ? "amber" : "normal"),
};
