// Usage page: the report from /hub/api/usage as a table and, per user, a chart over the periods
// (Chart.js, shipped in the package's static files).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const fields = { from: $("usage-from"), to: $("usage-to"), period: $("usage-period"), group: $("usage-group") };
  const tbody = document.querySelector("#usage-table tbody");
  const errorBox = $("usage-error");
  const chartSelect = $("usage-chart-select");
  let report = null;
  let chart = null;
  // JupyterHub's pages carry RequireJS, so Chart.js's UMD build registers as a module there
  const chartLib = new Promise((resolve, reject) => {
    window.require([window.jhdata.base_url + "stellars/static/vendor/chart.umd.min.js"], (Chart) => {
      window.Chart = Chart;
      resolve(Chart);
    }, reject);
  });

  function isoDay(d) { return d.toISOString().slice(0, 10); }
  const today = new Date();
  fields.to.value = isoDay(today);
  fields.from.value = isoDay(new Date(today.getTime() - 13 * 86400000));

  function query(extra) {
    const q = new URLSearchParams();
    for (const [k, el] of Object.entries(fields)) if (el.value) q.set(k, el.value);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return "usage?" + q.toString();
  }

  const hours = (h) => h.toFixed(2);

  function renderTable() {
    tbody.replaceChildren();
    for (const u of report.users) {
      const t = u.totals;
      const tr = document.createElement("tr");
      tr.dataset.username = u.username;
      const cells = [
        [u.username, "usage-user"], [hours(t.lab_hours), "usage-lab text-end"],
        [hours(t.active_hours), "usage-active text-end"], [String(t.starts), "usage-starts text-end"],
        [stellarsBytes(t.peak_memory_bytes), "usage-memory text-end"], [hours(t.cpu_hours), "usage-cpu text-end"],
        [stellarsBytes(t.storage_bytes), "usage-storage text-end"],
      ];
      for (const [text, cls] of cells) {
        const td = document.createElement("td");
        td.className = cls;
        td.textContent = text;
        tr.appendChild(td);
      }
      tr.addEventListener("click", () => { chartSelect.value = u.username; renderChart(); });
      tbody.appendChild(tr);
    }
    $("usage-unknown").textContent = hours(report.unknown_hours) + " h unknown in this range";
  }

  async function renderChart() {
    const Chart = await chartLib;
    const user = report.users.find((u) => u.username === chartSelect.value);
    $("usage-chart-user").textContent = user ? user.username : "";
    $("usage-chart-period").textContent = report.period === "range" ? "range" : report.period;
    const labels = user ? user.periods.map((p) => (p.start === p.end ? p.start : p.start + " – " + p.end)) : [];
    const series = (key) => (user ? user.periods.map((p) => p[key]) : []);
    const datasets = [
      { label: "Lab hours", data: series("lab_hours"), backgroundColor: "rgba(13,110,253,0.55)" },
      { label: "Active hours", data: series("active_hours"), backgroundColor: "rgba(25,135,84,0.75)" },
      { label: "CPU-hours", data: series("cpu_hours"), backgroundColor: "rgba(253,126,20,0.75)" },
      { label: "Unknown (hub down)", data: series("unknown_hours"), backgroundColor: "rgba(108,117,125,0.35)" },
    ];
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets.forEach((d, i) => { d.data = datasets[i].data; });
      chart.update();
      return;
    }
    chart = new Chart($("usage-chart"), {
      type: "bar",
      data: { labels, datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: "hours" } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  async function load() {
    errorBox.classList.add("d-none");
    $("usage-csv").href = window.jhdata.base_url + "api/" + query({ format: "csv" });
    try {
      report = await window.stellarsApi("GET", query());
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.classList.remove("d-none");
      return;
    }
    const keep = chartSelect.value;
    chartSelect.replaceChildren(...report.users.map((u) => new Option(u.username, u.username)));
    const busiest = report.users.slice().sort((a, b) => b.totals.lab_hours - a.totals.lab_hours)[0];
    chartSelect.value = report.users.some((u) => u.username === keep) ? keep : (busiest ? busiest.username : "");
    renderTable();
    await renderChart();
    document.getElementById("usage-page").dataset.loaded = report.from + "/" + report.to + "/" + report.period;
  }

  chartSelect.addEventListener("change", renderChart);
  $("usage-show").addEventListener("click", load);
  load();
})();
