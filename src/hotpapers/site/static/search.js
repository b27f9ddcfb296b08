// Search over the prebuilt index: fetched on first use, matched in the browser, no other requests.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.search");
  const input = document.getElementById("search-query");
  const out = document.getElementById("search-results");
  if (!form || !input || !out) return;
  let index = null;
  const load = () => index || (index = fetch(form.dataset.index).then((r) => r.json()));
  const show = async () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    out.replaceChildren();
    out.hidden = words.length === 0;
    if (out.hidden) return;
    const found = (await load()).filter((p) => {
      const text = [p.id, p.title, p.authors.join(" "), p.abstract].join(" ").toLowerCase();
      return words.every((w) => text.includes(w));
    }).slice(0, 50);
    const head = document.createElement("p");
    head.textContent = found.length ? `Papers matching “${input.value}”:` : "No paper matches.";
    const list = document.createElement("ul");
    for (const p of found) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.title;
      item.append(link, " ", p.authors.join(", "));
      list.append(item);
    }
    out.append(head, list);
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  input.addEventListener("input", show);
});
