// tweetpipe's live dashboard: renders the document of /api/dashboard, pushed by /events
// (server-sent events) every few seconds, or polled where EventSource is missing.
// Every text from the data goes in with textContent, never as HTML.
(function () {
  "use strict";

  const POLL_MS = 2000;
  const STALE_MS = 8000;
  const charts = {};
  let previous = null; // the last document and when it came, for the rates
  let lastUpdate = 0;

  const byId = (id) => document.getElementById(id);
  const fmt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"));
  const signed = (x) => (x === null || x === undefined ? "–" : (x > 0 ? "+" : "") + x.toFixed(3));
  const tone = (x) => (x === null || x === undefined ? "neutral" : x >= 0.05 ? "positive" : x <= -0.05 ? "negative" : "neutral");

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function row(cells) { // cells: [text, className]...
    const tr = el("tr");
    for (const [text, className] of cells) tr.appendChild(el("td", className, text));
    return tr;
  }

  function fill(tbody, rows, empty, columns) {
    tbody.replaceChildren(...rows);
    if (!rows.length) {
      const td = el("td", "empty", empty);
      td.colSpan = columns;
      tbody.appendChild(el("tr")).appendChild(td);
    }
  }

  function setValue(id, value, text, className) {
    const node = byId(id);
    node.textContent = text === undefined ? fmt(value) : text;
    node.dataset.value = value === null || value === undefined ? "" : String(value);
    node.className = "value" + (className ? " " + className : "");
  }

  // ---- charts ------------------------------------------------------------------------------

  function minuteLabels(minutes) {
    const days = new Set(minutes.map((m) => m.minute.slice(0, 10)));
    const years = new Set(minutes.map((m) => m.minute.slice(0, 4)));
    return minutes.map((m) => {
      const t = m.minute.slice(11, 16);
      if (days.size <= 1) return t;
      return (years.size <= 1 ? m.minute.slice(5, 10) : m.minute.slice(0, 10)) + " " + t;
    });
  }

  function chart(id, config) {
    if (typeof Chart === "undefined") {
      const box = byId(id).parentElement;
      if (!box.querySelector(".missing")) {
        box.appendChild(el("div", "missing", "chart library missing: run scripts/build_web.sh"));
      }
      return null;
    }
    if (!charts[id]) {
      Chart.defaults.animation = false;
      Chart.defaults.font.size = 11;
      charts[id] = new Chart(byId(id), config);
    }
    return charts[id];
  }

  function draw(id, config, labels, values) {
    const c = chart(id, config);
    byId(id).dataset.points = String(values.length);
    if (!c) return;
    c.data.labels = labels;
    c.data.datasets[0].data = values;
    c.update("none");
  }

  const common = { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } } };

  function bars(label, color, horizontal) {
    return {
      type: "bar",
      data: { labels: [], datasets: [{ label, data: [], backgroundColor: color, borderRadius: 2 }] },
      options: Object.assign({}, common, {
        indexAxis: horizontal ? "y" : "x",
        scales: { x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } }, y: { ticks: { autoSkip: !horizontal } } },
      }),
    };
  }

  const sentimentConfig = {
    type: "line",
    data: { labels: [], datasets: [{
      label: "mean sentiment", data: [], borderColor: "#475569", borderWidth: 1.5, pointRadius: 1.5,
      spanGaps: true, fill: { target: "origin", above: "rgba(22,163,74,.25)", below: "rgba(220,38,38,.25)" },
    }] },
    options: Object.assign({}, common, {
      scales: { y: { min: -1, max: 1 }, x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } } },
    }),
  };

  function renderTrends(trends) {
    const minutes = trends.minutes || [];
    const labels = minuteLabels(minutes);
    draw("chart-minutes", bars("tweets", "#3b82f6", false), labels, minutes.map((m) => m.tweets));
    draw("chart-sentiment", sentimentConfig, labels, minutes.map((m) => m.mean_sentiment));
    const hashtags = trends.hashtags || [];
    draw("chart-hashtags", bars("tweets", "#8b5cf6", true), hashtags.map((h) => "#" + h.name), hashtags.map((h) => h.tweets));
    const mentions = trends.mentions || [];
    draw("chart-mentions", bars("tweets", "#0ea5e9", true), mentions.map((m) => "@" + m.name), mentions.map((m) => m.tweets));

    const totals = trends.totals || {};
    setValue("kpi-tweets", totals.tweets);
    const shown = minutes.reduce((n, m) => n + m.tweets, 0);
    setValue("kpi-window", shown, fmt(shown) + (minutes.length ? " / " + minutes.length + " min" : ""));
    const scored = minutes.reduce((n, m) => n + m.scored, 0);
    const mean = scored ? minutes.reduce((s, m) => s + (m.mean_sentiment || 0) * m.scored, 0) / scored : null;
    setValue("kpi-sentiment", mean, signed(mean), tone(mean));
  }

  function renderLatest(tweets) {
    const items = tweets.map((t) => {
      const li = el("li");
      li.dataset.id = t.id;
      const meta = li.appendChild(el("div", "meta"));
      meta.appendChild(el("span", "author", t.author ? "@" + t.author : "(unknown author)"));
      meta.appendChild(el("span", "", (t.created_at || "").replace("T", " ").slice(0, 16)));
      if (t.lang) meta.appendChild(el("span", "", t.lang));
      meta.appendChild(el("span", "sentiment " + tone(t.sentiment), (t.label || "unscored") + " " + signed(t.sentiment)));
      li.appendChild(el("div", t.clean_text ? "text" : "text empty", t.clean_text || "(no text left after cleaning)"));
      return li;
    });
    const list = byId("latest");
    list.replaceChildren(...items);
    if (!items.length) list.appendChild(el("li", "empty", "no transformed tweets yet"));
  }

  // ---- health ------------------------------------------------------------------------------

  function perSecond(now, key) { // rows per second of a table since the previous document
    if (!previous || !now.tables || !previous.doc.health || !previous.doc.health.tables) return null;
    const seconds = (Date.now() - previous.at) / 1000;
    const before = previous.doc.health.tables[key];
    if (seconds <= 0 || before === undefined || now.tables[key] === undefined) return null;
    return Math.max(now.tables[key] - before, 0) / seconds;
  }

  function stageRow(name, component, derived) {
    const c = component || {};
    const counters = c.counters || {};
    const rate = typeof counters.rate === "number" ? counters.rate : derived;
    const details = el("td", "details");
    if (counters.waiting) details.appendChild(el("span", "chip warn", "waiting: " + counters.waiting));
    if (counters.reconnects) details.appendChild(el("span", "chip", counters.reconnects + " reconnects"));
    if (counters.rate_limit_waits) details.appendChild(el("span", "chip warn", counters.rate_limit_waits + " rate-limit waits"));
    if (c.restarts) details.appendChild(el("span", "chip warn", c.restarts + " restarts"));
    details.appendChild(document.createTextNode(c.line || (component ? "" : "no report (not supervised here)")));
    const tr = row([[name], [c.state || "–", "state-" + (c.state || "none")],
      [rate === null || rate === undefined ? "–" : rate.toFixed(1) + "/s", "num"]]);
    tr.dataset.stage = name;
    tr.appendChild(details);
    return tr;
  }

  function renderHealth(h) {
    const components = h.components || {};
    const stages = [["collector", null], ["loader", perSecond(h, "tweet_merge")], ["transform", perSecond(h, "tweet_transformed")]];
    for (const name of Object.keys(components)) if (!stages.some((s) => s[0] === name)) stages.push([name, null]);
    fill(byId("stages").tBodies[0], stages.map(([n, d]) => stageRow(n, components[n], d)), "", 4);

    const parts = h.partitions || [];
    fill(byId("partitions").tBodies[0], parts.map((p) => row([[p.partition, "num"], [fmt(p.committed), "num"], [fmt(p.end), "num"], [fmt(p.lag), "num"]])),
      h.partitions === null || h.partitions === undefined ? "unknown (nothing loaded yet, or Kafka unreachable)" : "no partitions", 4);
    setValue("kpi-lag", h.lag);

    const dead = Object.entries(h.dead_letters || {});
    fill(byId("dead-letters").tBodies[0], dead.map(([reason, n]) => row([[reason], [fmt(n), "num"]])), "none", 2);
    setValue("kpi-dead", h.dead_letters ? dead.reduce((s, [, n]) => s + n, 0) : null);

    const t = h.transform;
    const mark = t ? [["watermark", fmt(t.watermark)], ["newest load_seq", fmt(t.max_load_seq)], ["behind", fmt(t.behind)]] : [["watermark", "unknown"]];
    if (t && t.updated_at) mark.push(["updated", t.updated_at.replace("T", " ").slice(0, 19)]);
    fill(byId("transform").tBodies[0], mark.map(([k, v]) => row([[k], [v, "num"]])), "", 2);
    setValue("kpi-behind", t ? t.behind : null);
    const services = h.services || [];
    fill(byId("services").tBodies[0], services.map((s) => row([[s.name], [s.state], [s.address || "", "details"]])), "", 3);
  }

  function renderProblems(doc) {
    const errors = Object.assign({}, (doc.health && doc.health.errors) || {});
    if (doc.error) errors.dashboard = doc.error;
    const lines = Object.entries(errors).filter(([, v]) => v).map(([k, v]) => el("div", "", k + ": " + v));
    const box = byId("problems");
    box.replaceChildren(...lines);
    box.hidden = !lines.length;
  }

  function render(doc) {
    const h = doc.health || {};
    byId("where").textContent = [h.topic && "topic " + h.topic, h.group && "group " + h.group].filter(Boolean).join(" · ");
    renderTrends(doc.trends || {});
    renderLatest(doc.latest || []);
    renderHealth(h);
    renderProblems(doc);
    previous = { doc, at: Date.now() };
    lastUpdate = Date.now();
    setLive(true, "live · updated " + (doc.generated || "").slice(11, 19) + " UTC");
  }

  function setLive(on, text) {
    byId("live").className = on ? "live" : "live off";
    if (text) byId("live-text").textContent = text;
  }

  function safeRender(text) {
    try { render(JSON.parse(text)); } catch (err) { console.warn("dashboard: cannot render", err); }
  }

  function poll() {
    fetch("/api/dashboard", { cache: "no-store" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error("HTTP " + r.status))))
      .then(safeRender)
      .catch(() => setLive(false, "no answer, retrying…"))
      .finally(() => setTimeout(poll, POLL_MS));
  }

  function start() {
    if (typeof EventSource === "undefined") { poll(); return; }
    const source = new EventSource("/events");
    source.onmessage = (event) => safeRender(event.data);
    source.onerror = () => setLive(false, "reconnecting…");
    setInterval(() => { if (lastUpdate && Date.now() - lastUpdate > STALE_MS) setLive(false, "no update for a while…"); }, 1000);
  }

  start();
})();
