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
