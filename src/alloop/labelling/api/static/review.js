// The reviewer's view: ties, unsure answers and disagreements, one at a time, with every
// annotator's answer; choose the final label with its key (or click it), Enter confirms.
// Shift+R switches between labelling and reviewing, Escape goes back to labelling. Shown only to
// a token whose role is reviewer (the server refuses /api/review to anyone else anyway).
// Loaded after app.js, whose helpers it uses ($, el, api, say, keyFor, state); app.js tells it
// who logged in with the "alloop:me" event. Texts go in with textContent only, as in app.js.
"use strict";

const review = { on: false, item: null, choice: null, busy: false, view: null, toggle: null, timer: null };

function reviewBuild() {
  if (review.view) return;
  const toggle = el("button", undefined, "review-toggle");
  toggle.type = "button";
  toggle.id = "review-toggle";
  toggle.addEventListener("click", () => reviewShow(!review.on));
  $("who").after(toggle);
  const view = el("main");
  view.id = "review-view";
  view.hidden = true;
  view.setAttribute("aria-label", "review");
  const card = el("section");
  card.id = "review-card";
  card.setAttribute("aria-live", "polite");
  const meta = el("p", undefined, "meta");
  meta.id = "review-meta";
  const fields = el("div");
  fields.id = "review-fields";
  const answers = el("ul");
  answers.id = "review-answers";
  answers.setAttribute("aria-label", "answers");
  card.append(meta, fields, answers);
  const message = el("p");
  message.id = "review-message";
  message.setAttribute("role", "status");
  const buttons = el("section");
  buttons.id = "review-buttons";
  buttons.setAttribute("aria-label", "final label");
  const choose = state.tree ? "Type the final category's path" : "Choose the final label with its key";
  const back = state.tree ? "Escape in an empty field" : "Shift+R or Escape";
  const hint = el("p", choose + ", then Enter to confirm. " + back + ": back to labelling.", "hint");
  view.append(card, message, buttons, hint);
  $("app").after(view);
  review.view = view;
  review.toggle = toggle;
}

function reviewRemove() {
  if (review.view) review.view.remove();
  if (review.toggle) review.toggle.remove();
  if (review.timer) clearInterval(review.timer);
  Object.assign(review, { on: false, item: null, choice: null, view: null, toggle: null, timer: null });
}

function reviewSay(text, ok) {
  $("review-message").textContent = text || "";
  $("review-message").className = ok ? "ok" : "";
}

function reviewCount(remaining) {
  review.toggle.replaceChildren(el("kbd", "R"), document.createTextNode(review.on ? "Back to labelling" : "Review (" + remaining + ")"));
}

// A category tree's reviewer types the path (the browser's list filters the 1,000+ paths and
// their branches as they type) instead of choosing among 1,000 buttons; Enter decides.
function reviewPathField(box) {
  const paths = new Set();
  for (const label of state.labels) {
    const parts = label.split(" > ");
    for (let k = 1; k <= parts.length; k++) paths.add(parts.slice(0, k).join(" > "));
  }
  const list = el("datalist");
  list.id = "review-paths";
  for (const path of [...paths].sort()) {
    const option = el("option");
    option.value = path;
    list.append(option);
  }
  const field = el("input");
  field.id = "review-path";
  field.type = "text";
  field.setAttribute("list", "review-paths");
  field.setAttribute("aria-label", "the final category: type its path");
  field.placeholder = "type the final category's path (a branch is a partial label), Enter decides";
  field.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !field.value) return reviewShow(false); // back to labelling
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (!paths.has(field.value.trim())) return reviewSay("not a category of the tree: " + field.value);
    reviewChoose(field.value.trim());
    reviewConfirm().then(() => { field.value = ""; });
  });
  box.append(field, list);
}

function reviewButtons() {
  const box = $("review-buttons");
  box.replaceChildren();
  if (state.tree) return reviewPathField(box);
  state.labels.forEach((label, i) => {
    const button = el("button");
    button.type = "button";
    button.dataset.label = label;
    const key = keyFor(i);
    if (key) button.append(el("kbd", key));
    button.append(document.createTextNode(label));
    button.addEventListener("click", () => reviewChoose(label));
    box.append(button);
  });
  const confirm = el("button", "Confirm (Enter)", "confirm");
  confirm.type = "button";
  confirm.id = "review-confirm";
  confirm.addEventListener("click", () => reviewConfirm());
  box.append(confirm);
}

function reviewChoose(label) {
  if (!review.item || review.item.done) return;
  review.choice = label;
  for (const button of $("review-buttons").querySelectorAll("button[data-label]")) {
    button.classList.toggle("chosen", button.dataset.label === label);
  }
  reviewSay("chosen: " + label + " (Enter confirms)", true);
}

function reviewRender(item) {
  review.item = item;
  review.choice = null;
  const fields = $("review-fields");
  const answers = $("review-answers");
  fields.replaceChildren();
  answers.replaceChildren();
  for (const button of $("review-buttons").querySelectorAll("button.chosen")) button.classList.remove("chosen");
  if (item.done) {
    $("review-meta").textContent = "";
    fields.append(el("p", "Nothing to review."));
  } else {
    const m = item.model;
    const why = item.reason === "disagreement" ? "disagreement, majority " + item.current
      : item.reason === "model" && m ? m.why + ": labelled " + m.given + ", the model says " + m.predicted +
        " (" + Math.round(100 * m.confidence) + "% sure, out of fold)"
      : item.reason;
    $("review-meta").textContent = "item " + item.item_id + " · " + why + " · " + item.remaining + " to review";
    const entries = Object.entries(item.fields || {});
    if (entries.length === 0) entries.push(["text", item.text]);
    for (const [name, value] of entries) {
      const block = el("div", undefined, "field");
      block.append(el("div", name, "name"));
      block.append(el("p", String(value || "")));
      fields.append(block);
    }
    for (const a of item.answers) {
      const li = el("li");
      li.append(el("b", a.annotator), document.createTextNode(": " + (a.status === "label" ? a.label : a.status)));
      answers.append(li);
    }
  }
  document.body.dataset.reviewItemId = item.done ? "" : item.item_id;
  reviewCount(item.remaining);
  if (state.tree && review.on && !item.done) $("review-path").focus(); // the keys go to the path
}

function reviewFailed(error) {
  if (error.message === "unauthorised") return reviewRemove(); // app.js shows the login form
  reviewSay(error.message);
}

async function reviewLoad() {
  try {
    reviewRender(await api("GET", "/api/review"));
  } catch (error) {
    reviewFailed(error);
  }
}

async function reviewConfirm() {
  if (review.busy || !review.item || review.item.done) return;
  if (!review.choice) return reviewSay("choose a label first (its key or a click)");
  review.busy = true;
  try {
    const result = await api("POST", "/api/review", { item_id: review.item.item_id, label: review.choice });
    reviewRender(result.next);
    reviewSay("decided: item " + result.decided.item_id + " is " + result.decided.label, true);
  } catch (error) {
    reviewFailed(error);
    if (/does not need review/.test(error.message)) reviewLoad(); // another reviewer was first
  } finally {
    review.busy = false;
  }
}

function reviewShow(on) {
  review.on = on;
  $("app").hidden = on;
  review.view.hidden = !on;
  if (on) {
    reviewSay("", true);
    reviewLoad();
  } else if (review.item) {
    reviewCount(review.item.remaining);
  }
}

async function reviewPoll() {
  if (review.on || !review.view) return;
  try {
    const next = await api("GET", "/api/review");
    review.item = next;
    reviewCount(next.remaining);
  } catch (error) {
    if (error.message === "unauthorised") reviewRemove(); // else the next poll retries
  }
}

document.addEventListener("alloop:me", (event) => {
  if (event.detail.role !== "reviewer") return reviewRemove();
  reviewBuild();
  reviewButtons();
  $("who").textContent += " (reviewer)";
  reviewShow(false);
  reviewPoll();
  if (!review.timer) review.timer = setInterval(reviewPoll, 4000);
});

document.addEventListener("keydown", (event) => {
  if (!review.view || $("login").hidden === false) return;
  const tag = event.target.tagName;
  if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
  if (event.altKey || event.metaKey || event.ctrlKey) return;
  if (event.key === "R") {
    event.preventDefault();
    return reviewShow(!review.on);
  }
  if (!review.on) return;
  if (event.key === "Escape") {
    event.preventDefault();
    reviewShow(false);
  } else if (event.key === "Enter") {
    event.preventDefault();
    reviewConfirm();
  } else if (state.keys[event.key] !== undefined) {
    event.preventDefault();
    reviewChoose(state.keys[event.key]);
  }
});
