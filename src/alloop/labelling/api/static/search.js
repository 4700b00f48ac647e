// No class left behind: the classes nobody has labelled yet, and a search box to find examples of
// them on purpose. Loaded after app.js, whose api(), el(), say(), state, loadNext() and refresh()
// it uses. Keyboard: "/" focuses the box, Enter searches, arrows move through the results, a class
// key labels the highlighted result (sent with "source": "search"), Esc goes back to the queue.
"use strict";

const found = { rows: [] };

function renderMissing(stats) {
  const missing = stats.missing_classes || [];
  const box = $("missing-classes");
  box.replaceChildren();
  if (missing.length) {
    box.append(el("span", "No label yet (" + missing.length + "): "));
    for (const name of missing) box.append(el("span", name, "class-name"));
    box.append(el("span", " Press / to search for examples."));
  }
  box.hidden = missing.length === 0;
  for (const button of document.querySelectorAll("#buttons button")) {
    button.classList.toggle("missing", missing.includes(button.dataset.label));
  }
}

function resultStatus(row) {
  if (row.yours) {
    if (row.yours.status === "label") return "you: " + row.yours.label;
    return row.yours.status === "skip" ? "you skipped it" : "you were unsure";
  }
  if (row.held) return "being labelled by someone else";
  return row.labelled ? "labelled" : "not labelled yet";
}

function renderResult(li, row) {
  li.replaceChildren();
  li.append(el("span", row.text.split("\n")[0], "text"));
  li.append(el("span", resultStatus(row), row.labelled || row.yours ? "status" : "status open"));
}

function renderResults(rows) {
  const list = $("search-results");
  list.replaceChildren();
  for (const row of rows) {
    const li = el("li");
    li.tabIndex = -1;
    li.dataset.itemId = row.item_id;
    renderResult(li, row);
    list.append(li);
  }
}

function focusResult(index) {
  const items = $("search-results").children;
  if (items.length) items[Math.max(0, Math.min(index, items.length - 1))].focus();
}

async function runSearch() {
  const query = $("search-input").value;
  try {
    const data = await api("GET", "/api/search?limit=30&q=" + encodeURIComponent(query));
    found.rows = data.items;
    renderResults(data.items);
    if (data.items.length) {
      focusResult(0);
      say(data.items.length + " found: ↓ ↑ to choose, a class key to label, Esc to go back", true);
    } else {
      say("no item holds every word of “" + query.trim() + "”", true);
    }
  } catch (error) {
    if (error.message !== "unauthorised") say(error.message);
  }
}

async function labelResult(li, label) {
  const row = found.rows.find((r) => r.item_id === li.dataset.itemId);
  if (!row || state.busy) return;
  try {
    await api("POST", "/api/labels", { item_id: row.item_id, label, source: "search" });
    if (!(row.yours && row.yours.status === "label")) row.n_labels += 1;
    row.yours = { status: "label", label };
    row.labelled = true;
    renderResult(li, row);
    say("saved: " + label + " for item " + row.item_id + " (found by search)", true);
    if (state.item && state.item.item_id === row.item_id) await loadNext(); // it was on screen
  } catch (error) {
    say(error.message);
  }
  refresh();
}

document.addEventListener("alloop:stats", (event) => renderMissing(event.detail));

document.addEventListener("keydown", (event) => {
  const tag = event.target.tagName;
  if (event.key !== "/" || tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
  if ($("app").hidden || event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  $("search-input").focus();
  $("search-input").select();
});

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  runSearch();
});

$("search-input").addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown" && found.rows.length) {
    event.preventDefault();
    focusResult(0);
  }
});

$("search-results").addEventListener("keydown", (event) => {
  const li = event.target.closest("li");
  if (!li || event.altKey || event.ctrlKey || event.metaKey) return;
  event.stopPropagation(); // keys here act on the results, not on the item in the card
  const items = Array.from($("search-results").children);
  const index = items.indexOf(li);
  const label = state.keys[event.key];
  if (event.key === "ArrowDown") {
    event.preventDefault();
    focusResult(index + 1);
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    if (index === 0) $("search-input").focus();
    else focusResult(index - 1);
  } else if (event.key === "Escape") {
    li.blur();
  } else if (event.key === "/") {
    event.preventDefault();
    $("search-input").focus();
  } else if (label !== undefined) {
    event.preventDefault();
    labelResult(li, label);
  }
});
