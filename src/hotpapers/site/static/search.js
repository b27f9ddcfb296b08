// The search box, over Pagefind's index: its script is loaded on first use, then only the
// pieces of the index the typed words need. Results are shown as text, never as markup.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.search");
  const input = document.getElementById("search-query");
  const out = document.getElementById("search-results");
  if (!form || !input || !out) return;
  const SHOWN = 20;
  let engine = null;
  let asked = 0;
  const load = () => engine || (engine = import(form.dataset.pagefind).then(async (pagefind) => {
    await pagefind.options({ excerptLength: 24 });
    await pagefind.init();
    return pagefind;
  }));
  // Pagefind's excerpt is text with <mark> around the words found: keep those marks only.
  const excerpt = (html) => {
    const paragraph = document.createElement("p");
    const parsed = new DOMParser().parseFromString(html, "text/html");
    for (const node of parsed.body.childNodes) {
      if (node.nodeName === "MARK") {
        const mark = document.createElement("mark");
        mark.textContent = node.textContent;
        paragraph.append(mark);
      } else {
        paragraph.append(node.textContent);
      }
    }
    return paragraph;
  };
  const unavailable = () => {
    form.hidden = true;
    out.replaceChildren();
    out.hidden = true;
  };
  const show = async () => {
    const query = input.value.trim();
    const mine = ++asked;
    if (!query) {
      out.replaceChildren();
      out.hidden = true;
      return;
    }
    let found;
    try {
      const search = await (await load()).debouncedSearch(query, {}, 120);
      if (search === null || mine !== asked) return; // a later query took over
      found = await Promise.all(search.results.slice(0, SHOWN).map((r) => r.data()));
    } catch (error) {
      unavailable();
      return;
    }
    if (mine !== asked) return;
    const head = document.createElement("p");
    head.textContent = found.length ? `Pages matching “${query}”:` : "No page matches.";
    const list = document.createElement("ul");
    for (const page of found) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = page.url;
      link.textContent = page.meta.title || page.url;
      item.append(link, excerpt(page.excerpt));
      list.append(item);
    }
    out.replaceChildren(head, list);
    out.hidden = false;
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  input.addEventListener("input", show);
});
