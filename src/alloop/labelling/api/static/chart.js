// The model's estimated macro-F1 against the number of labels it was trained on: one point per
// model version (GET /api/model-history), drawn as a small inline SVG. A curve shows the trend
// that one bouncing number hides. Fetched again only when app.js reports a new model.
"use strict";
(() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 340, H = 130, L = 34, R = 10, T = 8, B = 26;
  let drawn = null; // the model the chart shows, as "version:labels"

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function draw(points) {
    const box = document.getElementById("quality");
    const known = points.filter((p) => p.macro_f1 !== null && p.macro_f1 !== undefined);
    if (!known.length) {
      box.replaceChildren();
      const note = document.createElement("p");
      note.className = "hint";
      note.textContent = points.length ? "no estimate for this model" : "no model yet";
      box.append(note);
      return;
    }
    known.sort((a, b) => a.labels - b.labels);
    const x0 = known[0].labels, x1 = Math.max(known.at(-1).labels, x0 + 1);
    const x = (n) => L + ((n - x0) / (x1 - x0)) * (W - L - R);
    const y = (f) => T + (1 - f) * (H - T - B); // macro-F1 on a fixed 0-1 scale
    const last = known.at(-1);
    const how = last.estimate === "gold" ? "on gold" : last.estimate === "cv" ? "cross-validated" : "";
    const chart = svg("svg", {
      viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", class: "quality-chart",
      "aria-label": `model macro-F1 ${last.macro_f1.toFixed(3)} at ${last.labels} labels (${how}); ` +
        `${known.length} models, first ${known[0].macro_f1.toFixed(3)} at ${x0} labels`,
    });
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      chart.append(svg("line", { x1: L, x2: W - R, y1: y(f), y2: y(f), class: f ? "grid" : "axis" }));
      chart.append(svg("text", { x: L - 4, y: y(f) + 4, "text-anchor": "end", class: "tick" }, f.toFixed(2)));
    }
    chart.append(svg("text", { x: L, y: H - 8, class: "tick" }, x0));
    chart.append(svg("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "tick" }, x1 + " labels"));
    const path = known.map((p) => `${x(p.labels).toFixed(1)},${y(p.macro_f1).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points: path, class: "curve" }));
    for (const p of known) {
      const dot = svg("circle", { cx: x(p.labels), cy: y(p.macro_f1), r: 2.5, class: "dot" });
      dot.append(svg("title", {}, `model v${p.version}: ${p.labels} labels, macro-F1 ${p.macro_f1.toFixed(3)}`));
      chart.append(dot);
    }
    const caption = document.createElement("p");
    caption.className = "hint";
    caption.textContent = `macro-F1 ${last.macro_f1.toFixed(3)} at ${last.labels} labels (${how})`;
    box.replaceChildren(chart, caption);
  }

  document.addEventListener("alloop:stats", async (event) => {
    const m = event.detail.model;
    const key = m.version + ":" + m.trained_on;
    const token = sessionStorage.getItem("alloop-token");
    if (key === drawn || !token) return;
    drawn = key;
    try {
      const response = await fetch("/api/model-history", { headers: { Authorization: "Bearer " + token } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      draw((await response.json()).points);
    } catch (error) {
      drawn = null; // the next refresh retries
    }
  });
})();
