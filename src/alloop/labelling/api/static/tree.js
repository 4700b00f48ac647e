// The category picker of a project whose labels are paths of a tree (1,000+ leaves), all from
// the keyboard: type to search leaves and branches by name or full path (fuzzy, ranked; Enter
// picks), 1-3 take the model's three best paths (the best is pre-selected), Enter on a branch or
// → opens it and ← goes back up (breadcrumbs), Shift+Enter stops at the open branch (a partial
// label), recent paths are offered at the top. Counts are grouped by branch, collapsed.
// Loaded after app.js, whose state, el(), say(), answer(), undo() and markKey() it uses; active
// only when /api/me says the labels form a tree. Every name goes in with textContent.
"use strict";
(() => {
  const SEP = " > ";
  const MAX_ROWS = 40;
  const MAX_RECENT = 5;
  const t = { on: false, nodes: new Map(), top: [], recent: [], crumb: "", rows: [], index: 0, note: null };
  const input = () => $("tree-input");

  // -- the tree --------------------------------------------------------------------------------
  function build(labels) {
    t.nodes.clear();
    const root = { path: "", name: "", depth: 0, children: [], isClass: false, nLeaves: 0, low: "", lowName: "" };
    t.nodes.set("", root);
    for (const label of labels) {
      const parts = label.split(SEP);
      for (let k = 1; k <= parts.length; k++) {
        const path = parts.slice(0, k).join(SEP);
        let node = t.nodes.get(path);
        if (!node) {
          const name = parts[k - 1];
          node = { path, name, depth: k, children: [], isClass: false, nLeaves: 0, low: path.toLowerCase(), lowName: name.toLowerCase() };
          node.parent = t.nodes.get(parts.slice(0, k - 1).join(SEP));
          node.parent.children.push(node);
          t.nodes.set(path, node);
        }
        node.nLeaves += 1;
      }
      t.nodes.get(label).isClass = true;
    }
    root.nLeaves = labels.length;
    t.all = [...t.nodes.values()].filter((n) => n.depth > 0);
  }

  const isBranch = (node) => node.children.length > 0;
  const under = (node, top) => top === "" || node.path === top || node.path.startsWith(top + SEP);

  // -- search ----------------------------------------------------------------------------------
  function wordStart(text, word) {
    return text.startsWith(word) || text.includes(" " + word) || text.includes("-" + word) || text.includes("(" + word);
  }

  function fuzzy(text, word) {
    // the letters of `word` in order: 1 (scattered) to 10 (together)
    let at = -1;
    let first = -1;
    for (const ch of word) {
      at = text.indexOf(ch, at + 1);
      if (at < 0) return -1;
      if (first < 0) first = at;
    }
    return Math.max(1, (10 * word.length) / (at - first + 1));
  }

  function score(node, words) {
    let total = 0;
    for (const w of words) {
      const name = node.lowName;
      const path = node.low;
      let s;
      if (name === w) s = 100;
      else if (name.startsWith(w)) s = 70;
      else if (wordStart(name, w)) s = 55;
      else if (name.includes(w)) s = 40;
      else if (wordStart(path, w)) s = 30;
      else if (path.includes(w)) s = 20;
      else {
        s = w.length > 1 ? fuzzy(path, w) : -1;
        if (s < 0) return -1;
      }
      total += s;
    }
    return total - (node.isClass ? 0 : 3); // a leaf before a branch that matches as well
  }

  function search(query) {
    const words = query.toLowerCase().split(/\s+/).filter((w) => w && w !== ">");
    const found = [];
    for (const node of t.all) {
      if (!under(node, t.crumb) || node.path === t.crumb) continue;
      const s = score(node, words);
      if (s > 0) found.push([s, node]);
    }
    found.sort((a, b) => b[0] - a[0] || a[1].path.length - b[1].path.length || (a[1].path < b[1].path ? -1 : 1));
    return found.slice(0, MAX_ROWS).map(([, node]) => ({ node, kind: "match" }));
  }

  // -- the list --------------------------------------------------------------------------------
  function rowsNow() {
    const query = input().value.trim();
    if (query) return search(query);
    const rows = [];
    const seen = new Set();
    t.top.forEach((guess, i) => {
      const node = t.nodes.get(guess.label);
      if (node && under(node, t.crumb)) {
        rows.push({ node, kind: "top", key: String(i + 1), p: guess.p });
        seen.add(node.path);
      }
    });
    if (t.crumb === "") {
      for (const label of t.recent) {
        const node = t.nodes.get(label);
        if (node && !seen.has(label)) {
          rows.push({ node, kind: "recent" });
          seen.add(label);
        }
      }
    }
    const here = t.nodes.get(t.crumb);
    if (here.isClass && t.crumb) rows.push({ node: here, kind: "self" }); // a branch that takes items
    for (const child of here.children) {
      if (!seen.has(child.path)) rows.push({ node: child, kind: "child" });
    }
    return rows;
  }

  function render() {
    t.rows = rowsNow();
    t.index = Math.max(0, Math.min(t.index, t.rows.length - 1));
    const list = $("tree-list");
    list.replaceChildren();
    t.rows.slice(0, MAX_ROWS).forEach((row, i) => list.append(renderRow(row, i)));
    if (t.rows.length > MAX_ROWS) list.append(el("li", "… " + (t.rows.length - MAX_ROWS) + " more: type to narrow", "more"));
    list.scrollTop = 0; // a new list starts at its top, where the highlighted row is
    renderCrumbs();
  }

  function renderRow(row, i) {
    const li = el("li", undefined, "row " + row.kind);
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === t.index));
    li.dataset.path = row.node.path;
    li.append(el("kbd", row.key || ""));
    const parent = row.node.parent && row.node.parent.path;
    if (parent && row.kind !== "child") li.append(el("span", parent + SEP, "parent"));
    li.append(el("b", row.node.name));
    if (isBranch(row.node) && row.kind !== "self") li.append(el("span", " › " + row.node.nLeaves + " categories", "count"));
    const tag = { top: row.p !== undefined ? Math.round(row.p * 100) + "%" : "", recent: "recent", self: "this category itself" }[row.kind];
    if (tag) li.append(el("span", tag, "tag"));
    li.addEventListener("click", () => {
      t.index = i;
      choose(false);
    });
    return li;
  }

  function renderCrumbs() {
    const nav = $("tree-crumbs");
    nav.replaceChildren();
    const parts = t.crumb ? t.crumb.split(SEP) : [];
    const home = el("button", "All categories", "crumb");
    home.type = "button";
    home.tabIndex = -1;
    home.addEventListener("click", () => go(""));
    nav.append(home);
    parts.forEach((name, k) => {
      const path = parts.slice(0, k + 1).join(SEP);
      const b = el("button", name, "crumb");
      b.type = "button";
      b.tabIndex = -1;
      b.addEventListener("click", () => go(path));
      nav.append(el("span", " › ", "sep"), b);
    });
    $("tree-stop").hidden = t.crumb === "";
    $("tree-stop-name").textContent = t.crumb;
    input().placeholder = t.crumb ? "search in " + t.crumb + "…" : "type to search " + (t.nodes.get("").nLeaves).toLocaleString("en") + " categories…";
  }

  function go(path) {
    t.crumb = path;
    t.index = 0;
    input().value = "";
    render();
    input().focus();
  }

  function move(delta) {
    if (!t.rows.length) return;
    t.index = (t.index + delta + Math.min(t.rows.length, MAX_ROWS)) % Math.min(t.rows.length, MAX_ROWS);
    const items = $("tree-list").children;
    for (let i = 0; i < items.length; i++) items[i].setAttribute("aria-selected", String(i === t.index));
    items[t.index]?.scrollIntoView({ block: "nearest" });
  }

  function send(label) {
    if (state.busy || !state.item || state.item.done) return;
    markKey();
    t.recent = [label, ...t.recent.filter((l) => l !== label)].slice(0, MAX_RECENT);
    answer({ label });
  }

  function choose(open) {
    const row = t.rows[t.index];
    if (!row) return;
    const node = row.node;
    if (isBranch(node) && row.kind !== "self" && (open || !node.isClass || row.kind === "child" || row.kind === "match")) {
      return go(node.path); // Enter or → on a branch opens it
    }
    if (!open) send(node.path);
  }

  function stopHere() {
    if (t.crumb) send(t.crumb); // a partial label: the branch, not a leaf under it
  }

  function onKey(event) {
    if (!t.on) return;
    const field = input();
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const control = { s: "skip", u: "unsure", z: "undo", r: "review" }[event.key.toLowerCase()];
      if (!control) return;
      event.preventDefault();
      if (control === "review") return $("review-toggle")?.click(); // reviewers: the review view
      if (control === "undo") return undo();
      markKey();
      return answer({ [control]: true });
    }
    if (event.ctrlKey || event.metaKey) return;
    const empty = field.value === "";
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (event.shiftKey) stopHere();
      else choose(false);
    } else if (event.key === "ArrowRight" && field.selectionStart === field.value.length) {
      const row = t.rows[t.index];
      if (row && isBranch(row.node) && row.kind !== "self") {
        event.preventDefault();
        go(row.node.path);
      }
    } else if ((event.key === "ArrowLeft" || event.key === "Backspace") && empty && t.crumb) {
      event.preventDefault();
      go(t.nodes.get(t.crumb).parent.path);
    } else if (event.key === "Escape") {
      event.preventDefault();
      if (!empty) go(t.crumb);
      else if (t.crumb) go("");
    } else if (empty && event.key === "+" && window.alloopSimilar) {
      event.preventDefault();
      window.alloopSimilar.toggleAll(); // similar.js: tick or untick every similar listing
    } else if (empty && /^[1-9]$/.test(event.key)) {
      const guess = t.top[Number(event.key) - 1];
      if (guess) {
        event.preventDefault();
        send(guess.label);
      }
    }
  }

  function showItem(item) {
    if (!t.on) return;
    const started = performance.now();
    $("suggestion").hidden = true; // the top paths replace the flat page's suggestion line
    t.top = (!item.done && item.top) || [];
    const note = $("tree-note");
    note.replaceChildren();
    note.hidden = true;
    t.crumb = "";
    if (!item.done && item.partial && t.nodes.has(item.partial)) {
      t.crumb = item.partial; // an earlier answer stopped at this branch: its leaf is wanted now
      note.append(el("span", "An earlier answer stopped at "), el("b", item.partial), el("span", ": choose the category under it."));
      note.hidden = false;
    }
    t.index = 0;
    input().value = "";
    render();
    if (document.activeElement !== input() && !document.activeElement.closest("#search, #recent, #review-view, #guidelines")) input().focus();
    performance.measure("alloop:tree-picker", { start: started }); // the picker's share, for bench/
  }

  // -- counts, grouped by branch ---------------------------------------------------------------
  const openBranches = new Set();

  function renderCounts(stats) {
    if (!t.on) return;
    $("per-class").hidden = true;
    $("per-class-title").textContent = "Labels per branch";
    const box = $("tree-counts");
    box.hidden = false;
    const labelled = new Map();
    const partial = new Map();
    const missing = new Map();
    for (const node of t.nodes.values()) {
      labelled.set(node.path, 0);
      partial.set(node.path, 0);
      missing.set(node.path, 0);
    }
    for (const node of t.nodes.values()) {
      if (!node.isClass) continue;
      const n = stats.per_class[node.path] || 0;
      for (let up = node; up; up = up.parent) {
        labelled.set(up.path, labelled.get(up.path) + n);
        if (!n) missing.set(up.path, missing.get(up.path) + 1);
      }
    }
    for (const [path, n] of Object.entries(stats.partial || {})) {
      for (let up = t.nodes.get(path); up; up = up.parent) partial.set(up.path, partial.get(up.path) + n);
    }
    const counts = { labelled, partial, missing };
    box.replaceChildren();
    const total = t.nodes.get("");
    box.append(el("p", missing.get("") + " of " + total.nLeaves + " categories have no label yet; " +
      partial.get("") + " partial labels wait for their leaf. Open a branch to see its categories.", "hint"));
    for (const child of total.children) box.append(branchBlock(child, counts));
  }

  function summaryText(node, c) {
    const n = c.labelled.get(node.path);
    let text = n + (n === 1 ? " label" : " labels");
    if (c.partial.get(node.path)) text += " · " + c.partial.get(node.path) + " partial";
    const none = c.missing.get(node.path);
    if (isBranch(node)) text += " · " + none + "/" + node.nLeaves + " with none";
    return text;
  }

  function branchBlock(node, c) {
    if (!isBranch(node)) {
      const line = el("div", undefined, "leaf" + (c.missing.get(node.path) ? " none" : ""));
      line.append(el("span", node.name), el("span", " " + c.labelled.get(node.path), "n"));
      return line;
    }
    const box = el("details", undefined, "branch");
    box.open = openBranches.has(node.path);
    const summary = el("summary");
    summary.append(el("span", node.name), el("span", " " + summaryText(node, c), "n"));
    box.append(summary);
    const fill = () => {
      if (box.children.length > 1) return;
      for (const child of node.children) box.append(branchBlock(child, c));
    };
    if (box.open) fill();
    box.addEventListener("toggle", () => {
      if (box.open) openBranches.add(node.path);
      else openBranches.delete(node.path);
      if (box.open) fill(); // built when opened: never 1,000 rows at once
    });
    return box;
  }

  // -- wiring ----------------------------------------------------------------------------------
  document.addEventListener("alloop:me", (event) => {
    t.on = !!event.detail.tree;
    $("tree").hidden = !t.on;
    if (!t.on) return;
    build(event.detail.labels);
    for (const [id, key] of [["skip", "Alt+s"], ["unsure", "Alt+u"], ["undo", "Alt+z"]]) {
      $(id).querySelector("kbd").textContent = key; // letters go to the search field here
    }
    $("recent").querySelector(".hint").textContent = "Alt+z takes back the latest answer.";
    render();
  });
  document.addEventListener("alloop:item", (event) => showItem(event.detail));
  document.addEventListener("alloop:stats", (event) => renderCounts(event.detail));
  document.addEventListener("alloop:recent", (event) => {
    if (!t.on) return;
    const before = t.recent.join("\n");
    const theirs = event.detail.filter((r) => r.status === "label").map((r) => r.label);
    t.recent = [...new Set([...t.recent, ...theirs])].slice(0, MAX_RECENT);
    if (t.recent.join("\n") !== before && input().value === "" && t.crumb === "") render();
  });
  input().addEventListener("input", () => {
    t.index = 0;
    render();
  });
  input().addEventListener("keydown", onKey);
  $("tree-stop").addEventListener("click", stopHere);
  // keys pressed outside any field go to the picker (Alt+s/u/z work from anywhere)
  document.addEventListener("keydown", (event) => {
    if (!t.on || $("app").hidden || event.target === input()) return;
    const tag = event.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || event.target.closest("#review-view, summary")) return;
    if (event.altKey) return onKey(event);
    if (event.key === "Enter" && event.target.closest("button, a")) return;
    input().focus(); // a typed character lands in the field
    if (event.key.length > 1 || /^[1-9]$/.test(event.key)) onKey(event);
  });
})();
