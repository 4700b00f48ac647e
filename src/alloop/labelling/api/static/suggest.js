// The model's suggestion (pre-selected: Enter accepts it, app.js sends the answer), the --show
// fields under the text, the guidelines panel and the suggestions' acceptance rate. app.js tells
// this file about each item and each stats refresh with the events alloop:item and alloop:stats.
// Item values go in with textContent; only the guidelines' HTML, rendered by the server with raw
// HTML escaped, goes in as HTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let guidelinesFor = null; // the token the guidelines were loaded with

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function showFields(item) {
    const box = $("item-shown");
    box.replaceChildren();
    if (item.done) return;
    for (const [name, value] of Object.entries(item.shown || {})) {
      const lines = String(value || "").split("\n").filter((l) => l.trim());
      if (!lines.length) continue;
      const block = el("div", undefined, "shown");
      block.append(el("span", name, "name"));
      if (lines.length > 1) {
        const list = el("ul");
        lines.forEach((line) => list.append(el("li", line)));
        block.append(list);
      } else {
        block.append(el("span", lines[0], "value"));
      }
      box.append(block);
    }
  }

  function showSuggestion(item) {
    const box = $("suggestion");
    for (const b of document.querySelectorAll("#buttons button.suggested")) b.classList.remove("suggested");
    const s = !item.done && item.suggestion;
    box.replaceChildren();
    if (!s || document.body.dataset.mode === "tree") { // a tree's page offers its top paths instead
      box.hidden = true;
      delete box.dataset.label;
      return;
    }
    box.dataset.label = s.label;
    box.append(
      el("span", "model suggests "),
      el("b", s.label),
      el("span", " (" + Math.round(s.p * 100) + "%) · "),
      el("kbd", "Enter"),
      el("span", " accepts, any other class key overrides"),
    );
    box.hidden = false;
    const button = document.querySelector('#buttons button[data-label="' + CSS.escape(s.label) + '"]');
    if (button) button.classList.add("suggested");
  }

  async function loadGuidelines() {
    const token = sessionStorage.getItem("alloop-token");
    if (!token || token === guidelinesFor) return;
    guidelinesFor = token;
    try {
      const response = await fetch("/api/guidelines", { headers: { Authorization: "Bearer " + token } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const g = await response.json();
      $("guidelines").hidden = !g.html;
      $("guidelines-body").innerHTML = g.html || ""; // server-rendered, raw HTML escaped
    } catch (error) {
      guidelinesFor = null; // the next item retries
    }
  }

  function showAcceptance(stats) {
    const s = stats.suggestions;
    const out = $("suggest-rate");
    if (!s || !s.with_suggestion) {
      out.textContent = s && !s.enabled ? "suggestions off" : "";
      return;
    }
    out.textContent = "suggestions accepted " + Math.round(s.rate * 100) + "% of " + s.with_suggestion;
    out.title = "the share of answers equal to the model's suggestion: its accuracy on the items you see";
  }

  document.addEventListener("alloop:item", (event) => {
    showFields(event.detail);
    showSuggestion(event.detail);
    loadGuidelines();
  });
  document.addEventListener("alloop:stats", (event) => showAcceptance(event.detail));
  // a mouse click leaves no focus on a label button, so that Enter next accepts a suggestion
  $("buttons").addEventListener("click", (event) => {
    if (event.detail) event.target.closest("button")?.blur();
  });
  // ? opens or closes the guidelines (Tab reaches them too: they are a <details>)
  document.addEventListener("keydown", (event) => {
    const tag = event.target.tagName;
    if (event.key !== "?" || tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    const panel = $("guidelines");
    if (panel.hidden || $("app").hidden) return;
    event.preventDefault();
    panel.open = !panel.open;
    if (panel.open) panel.querySelector("summary").focus();
    else document.activeElement.blur();
  });
})();
