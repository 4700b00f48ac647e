// The labelling page: plain JavaScript, no build step. Every item text goes into the page with
// textContent (never innerHTML), so a product title cannot inject markup.
"use strict";

const CONTROL_KEYS = { s: "skip", u: "unsure", z: "undo", Backspace: "undo" };
const LETTERS = "abcdefghijklmnopqrtvwxy"; // s, u and z are the controls
const $ = (id) => document.getElementById(id);
const state = { token: null, labels: [], keys: {}, item: null, busy: false, tree: false };
// Keypress to the next item's text on screen: a performance.measure entry per answer (the
// browser's own timeline; tests and bench/ read it), so the page adds no global of its own.
let keyAt = null;
function markKey() { keyAt = performance.now(); } // tree.js: its keys start the measure too

function readToken() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    sessionStorage.setItem("alloop-token", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("alloop-token");
}

async function api(method, path, body) {
  const options = { method, headers: { Authorization: "Bearer " + state.token } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    sessionStorage.removeItem("alloop-token");
    showLogin(data.detail || "invalid token");
    throw new Error("unauthorised");
  }
  if (!response.ok) throw new Error(data.detail || "HTTP " + response.status);
  return data;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function say(text, ok) {
  $("message").textContent = text || "";
  $("message").className = ok ? "ok" : "";
}

function showLogin(message) {
  $("app").hidden = true;
  $("login").hidden = false;
  say(message);
  $("token-input").focus();
}

function keyFor(index) {
  if (index < 9) return String(index + 1);
  return LETTERS[index - 9] || null;
}

function buildButtons() {
  const box = $("buttons");
  box.replaceChildren();
  state.keys = {};
  state.labels.forEach((label, i) => {
    const key = keyFor(i);
    const button = el("button");
    button.type = "button";
    button.dataset.label = label;
    if (key) {
      button.append(el("kbd", key));
      state.keys[key] = label;
    }
    button.append(document.createTextNode(label));
    button.addEventListener("click", () => answer({ label }));
    box.append(button);
  });
}

function renderItem(item) {
  state.item = item;
  const fields = $("item-fields");
  fields.replaceChildren();
  if (item.done) {
    $("item-id").textContent = "";
    $("item-source").textContent = "";
    fields.append(el("p", "Nothing left to label. Thank you!"));
  } else {
    $("item-id").textContent = "item " + item.item_id;
    const chosen = item.source === "held" ? "" : item.source;
    $("item-source").textContent = chosen ? "· chosen by " + chosen + " · model v" + item.model_version : "";
    const entries = Object.entries(item.fields || {});
    if (entries.length === 0) entries.push(["text", item.text]);
    for (const [name, value] of entries) {
      const block = el("div", undefined, "field");
      block.append(el("div", name, "name"));
      const lines = String(value || "").split("\n").filter((l) => l.trim());
      if (lines.length > 1) {
        const list = el("ul");
        lines.forEach((line) => list.append(el("li", line)));
        block.append(list);
      } else {
        block.append(el("p", lines[0] || ""));
      }
      fields.append(block);
    }
  }
  document.body.dataset.itemId = item.done ? "" : item.item_id;
  document.dispatchEvent(new CustomEvent("alloop:item", { detail: item })); // suggest.js: suggestion, --show
  if (keyAt !== null) { // after the listeners: the picker of a tree is ready too
    performance.measure("alloop:key-to-item", { start: keyAt }); // read by tests and bench/
    keyAt = null;
  }
}

async function loadNext() {
  renderItem(await api("GET", "/api/next"));
}

async function answer(body) {
  if (state.busy || !state.item || state.item.done) return;
  state.busy = true;
  try {
    const also = body.label && window.alloopSimilar ? window.alloopSimilar.ticked() : [];
    await api("POST", "/api/labels", { item_id: state.item.item_id, ...body, ...(also.length ? { also } : {}) });
    await loadNext();
    say(body.label ? "saved: " + body.label : body.skip ? "skipped" : "marked unsure", true);
  } catch (error) {
    say(error.message);
  } finally {
    state.busy = false;
  }
  refresh();
}

async function undo() {
  if (state.busy) return;
  state.busy = true;
  try {
    const result = await api("POST", "/api/undo");
    await loadNext();
    say("undone: item " + result.item_id, true);
  } catch (error) {
    say(error.message);
  } finally {
    state.busy = false;
  }
  refresh();
}

async function change(itemId, label) {
  try {
    await api("POST", "/api/labels", { item_id: itemId, label });
    say("changed item " + itemId + " to " + label, true);
  } catch (error) {
    say(error.message);
  }
  refresh();
}

function renderRecent(items) {
  document.dispatchEvent(new CustomEvent("alloop:recent", { detail: items })); // tree.js: recent paths
  const list = $("recent-list");
  if (state.tree) return renderRecentPaths(list, items);
  const inside = list.contains(document.activeElement);
  if (inside && list.querySelector("select.dirty")) return; // a choice not yet saved stays while edited
  const focused = inside ? document.activeElement.closest("li").dataset.itemId : null;
  list.replaceChildren();
  for (const row of items) {
    const li = el("li");
    li.dataset.itemId = row.item_id;
    li.append(el("span", row.text.split("\n")[0], "text"));
    const select = el("select");
    select.setAttribute("aria-label", "label of item " + row.item_id);
    if (row.status !== "label") {
      const option = el("option", row.status === "skip" ? "(skipped)" : "(unsure)");
      option.value = "";
      option.disabled = true;
      select.append(option);
    }
    for (const label of state.labels) {
      const option = el("option", label);
      option.value = label;
      select.append(option);
    }
    select.value = row.status === "label" ? row.label : "";
    // Arrow keys only move the choice; Enter or the Save button saves it, Escape puts it back.
    const saved = select.value;
    const save = el("button", "Save", "save");
    save.type = "button";
    save.hidden = true;
    const pending = (on) => { select.classList.toggle("dirty", on); save.hidden = !on; };
    const confirm = () => {
      if (!select.value || select.value === saved) return;
      pending(false);
      change(row.item_id, select.value);
    };
    select.addEventListener("change", () => pending(select.value !== saved));
    select.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); confirm(); }
      else if (event.key === "Escape") { select.value = saved; pending(false); }
    });
    save.addEventListener("click", confirm);
    li.append(select, save);
    list.append(li);
  }
  const again = focused === null ? null : list.querySelector('li[data-item-id="' + CSS.escape(focused) + '"] select');
  if (again) again.focus(); // a refresh keeps the keyboard where it was
}

// A tree's recent answers show their path (a select of 1,000 paths would help nobody); z undoes.
function renderRecentPaths(list, items) {
  list.replaceChildren();
  for (const row of items) {
    const li = el("li");
    li.dataset.itemId = row.item_id;
    li.append(el("span", row.text.split("\n")[0], "text"));
    li.append(el("span", row.status === "label" ? row.label : "(" + row.status + ")", "path"));
    list.append(li);
  }
}

function fmt(x, digits) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(digits);
}

// Auto-labelling at the target precision (out-of-fold threshold, docs/trust.md) and the
// suspected label errors waiting in the reviewers' queue.
function renderTrust(t) {
  const auto = $("auto-labelled");
  const suspected = $("suspected");
  if (!t || t.n_accepted === undefined) {
    auto.textContent = "";
  } else {
    auto.textContent = "auto-labelled at " + Math.round(100 * t.target) + "% precision: " + t.n_accepted +
      " items (" + (100 * t.share).toFixed(1) + "% of the catalogue)";
    auto.title = t.line || "";
  }
  suspected.textContent = t && t.suspected_errors ? "suspected label errors: " + t.suspected_errors : "";
}

function renderStats(s) {
  document.dispatchEvent(new CustomEvent("alloop:stats", { detail: s })); // for search.js
  $("n-labelled").textContent = s.labelled_items;
  $("n-items").textContent = s.items;
  $("n-you").textContent = s.you ? s.you.labels : 0;
  $("n-queue").textContent = s.queue;
  const m = s.model;
  $("f1").textContent = fmt(m.macro_f1, 3);
  $("f1-how").textContent = m.estimate === "gold" ? "(on gold, " + m.estimate_n + " items)"
    : m.estimate === "cv" ? "(cross-validated, " + m.estimate_n + " labels)" : "";
  renderTrust(s.trust);
  let status = m.version ? "model v" + m.version + " on " + m.trained_on + " labels" : "no model yet";
  if (m.training) status += " · " + m.phase + "…";
  if (m.error) status += " · training failed: " + m.error;
  $("model-status").textContent = status;
  const body = $("per-class").tBodies[0];
  body.replaceChildren();
  for (const [label, n] of Object.entries(state.tree ? {} : s.per_class)) { // tree.js groups a tree
    const tr = el("tr");
    tr.append(el("td", label), el("td", n, "n"));
    body.append(tr);
  }
  const agreement = $("agreement");
  agreement.replaceChildren();
  for (const p of s.agreement.pairs) {
    agreement.append(el("li", p.a + " – " + p.b + ": Cohen's κ " + fmt(p.kappa, 2) + " on " + p.n_items + " items"));
  }
  if (s.agreement.fleiss) {
    const f = s.agreement.fleiss;
    agreement.append(el("li", "Fleiss' κ " + fmt(f.kappa, 2) + " (" + f.n_annotators + " annotators, " + f.n_items + " items)"));
  }
  if (s.agreement.hidden) agreement.append(el("li", "who answered what is " + s.agreement.hidden)); // review
  else if (!agreement.children.length) agreement.append(el("li", "no item labelled by two annotators yet"));
  $("n-disagreements").textContent = "(" + s.agreement.n_disagreements + ")";
  const list = $("disagreements");
  list.replaceChildren();
  for (const d of s.agreement.disagreements.slice(0, 10)) {
    const li = el("li");
    li.append(el("span", d.text.split("\n")[0], "text"));
    const votes = Object.entries(d.labels).map(([who, label]) => who + ": " + label).join(", ");
    li.append(el("span", votes + " → "));
    if (d.decided) li.append(el("span", d.decided + " (reviewer)")); // review
    else li.append(d.tie ? el("span", "tie, needs review", "tie") : el("span", d.majority));
    list.append(li);
  }
  document.dispatchEvent(new CustomEvent("alloop:stats", { detail: s })); // suggest.js, chart.js
}

let refreshing = false;
async function refresh() {
  if (refreshing || !state.token) return;
  refreshing = true;
  try {
    const [recent, stats] = await Promise.all([api("GET", "/api/recent?limit=10"), api("GET", "/api/stats")]);
    renderRecent(recent.items);
    renderStats(stats);
  } catch (error) {
    /* the next refresh retries */
  } finally {
    refreshing = false;
  }
}

function flash(label) {
  const button = document.querySelector('#buttons button[data-label="' + CSS.escape(label) + '"]');
  if (!button) return;
  button.classList.add("flash");
  setTimeout(() => button.classList.remove("flash"), 150);
}

document.addEventListener("keydown", (event) => {
  if (state.tree) return; // tree.js has the keys of a tree's page
  const tag = event.target.tagName;
  if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (event.altKey || event.metaKey || (event.ctrlKey && event.key !== "z")) return;
  if ($("app").hidden) return;
  const label = state.keys[event.key];
  const control = CONTROL_KEYS[event.key];
  const suggested = state.item && !state.item.done && state.item.suggestion;
  if (event.key === "Enter") {
    // Enter accepts the model's suggestion, unless a button or the guidelines have the focus
    if (!suggested || (event.target !== document.body && event.target.closest("button, summary, a"))) return;
    event.preventDefault();
    keyAt = performance.now();
    flash(suggested.label);
    answer({ label: suggested.label });
  } else if (label !== undefined) {
    event.preventDefault();
    keyAt = performance.now();
    flash(label);
    answer({ label });
  } else if (control === "skip" || control === "unsure") {
    event.preventDefault();
    keyAt = performance.now();
    answer({ [control]: true });
  } else if (control === "undo") {
    event.preventDefault();
    undo();
  } else if (event.key === "+" && window.alloopSimilar) {
    event.preventDefault();
    window.alloopSimilar.toggleAll(); // similar.js: tick or untick every similar listing
  }
});

async function start() {
  state.token = readToken();
  if (!state.token) return showLogin("");
  try {
    const me = await api("GET", "/api/me");
    state.labels = me.labels;
    state.tree = !!me.tree;
    document.body.dataset.mode = state.tree ? "tree" : "flat";
    $("who").textContent = "labelling as " + me.annotator;
    $("login").hidden = true;
    $("app").hidden = false;
    if (state.tree) $("buttons").replaceChildren(); // tree.js builds the category picker
    else buildButtons();
    document.dispatchEvent(new CustomEvent("alloop:me", { detail: me })); // review.js: the reviewer's view
    await loadNext();
    say("", true);
    refresh();
  } catch (error) {
    if (error.message !== "unauthorised") say(error.message);
  }
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token-input").value.trim();
  if (!token) return;
  sessionStorage.setItem("alloop-token", token);
  $("token-input").value = "";
  start();
});
$("skip").addEventListener("click", () => answer({ skip: true }));
$("unsure").addEventListener("click", () => answer({ unsure: true }));
$("undo").addEventListener("click", () => undo());
// a #token=... link opened on a page that already shows the login form logs in without a reload
window.addEventListener("hashchange", () => {
  if (!/token=/.test(location.hash)) return;
  document.activeElement.blur(); // the token field may hold the focus; the keys go to the page
  start();
});
setInterval(refresh, 4000);
start();
