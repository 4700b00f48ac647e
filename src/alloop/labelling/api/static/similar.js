// Near-duplicates of the item (the same product in another size, colour or seller's words): the
// server lists them with each item as `similar`; the annotator ticks the ones that are the same
// product and the answer's label is given to those too (app.js sends them as `also`). Nothing is
// ticked until the annotator ticks it. Texts go in with textContent.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  function render(item) {
    const box = $("similar");
    const list = $("similar-list");
    list.replaceChildren();
    const group = (!item.done && item.similar) || [];
    box.hidden = group.length === 0;
    $("similar-count").textContent = String(group.length);
    for (const other of group) {
      const row = document.createElement("li");
      const label = document.createElement("label");
      const box_ = document.createElement("input");
      box_.type = "checkbox";
      box_.value = other.item_id;
      box_.tabIndex = -1; // keys stay on the label buttons; tick with the mouse or "+" for all
      label.append(box_, document.createTextNode(" " + other.text));
      row.append(label);
      list.append(row);
    }
  }

  function ticked() {
    return [...document.querySelectorAll("#similar-list input:checked")].map((b) => b.value);
  }

  function toggleAll() {
    const boxes = [...document.querySelectorAll("#similar-list input")];
    const all = boxes.length > 0 && boxes.every((b) => b.checked);
    boxes.forEach((b) => (b.checked = !all));
  }

  document.addEventListener("alloop:item", (event) => render(event.detail));
  document.addEventListener("DOMContentLoaded", () => $("similar-all").addEventListener("click", toggleAll));
  window.alloopSimilar = { ticked, toggleAll };
})();
