/* explorer.js: the excerpt explorers and the compare view of the book, in the page, with no kernel.
 *
 * Linked only by pages that have an explorer (brbook/explorer.py writes the link, the form and the
 * rows as JSON). It filters those rows and draws them with the same markup as the book's excerpt
 * lists (brbook/excerpts.py excerpt_item, brbook/compare.py column_html). Plain DOM, no library.
 */
(function () {
  "use strict";

  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  /* Typographic quotes match straight ones, and case does not matter. */
  function fold(text) {
    return text.toLowerCase().replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"');
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  /* One excerpt as a list item: quote, speaker, date, citation, section, id (as excerpt_item). */
  function item(row, source) {
    var li = make("li", { "class": "excerpt-item", "data-source": row.s, "data-excerpt": row.i });
    li.appendChild(make("q", {}, row.t));
    li.appendChild(document.createTextNode(" "));
    var meta = make("span", { "class": "excerpt-item-meta" });
    meta.appendChild(document.createTextNode(row.p + ", "));
    meta.appendChild(make("time", { datetime: row.w }, row.d));
    meta.appendChild(document.createTextNode(" \u00b7 "));
    meta.appendChild(make("a", { href: source.href }, source.cite));
    meta.appendChild(document.createTextNode(", \u201c" + row.c + "\u201d "));
    meta.appendChild(make("code", {}, row.i));
    li.appendChild(meta);
    return li;
  }

  function bySource(data) {
    var map = {};
    data.sources.forEach(function (s) { map[s.id] = s; });
    return map;
  }

  function start(root) {
    var data = JSON.parse(root.querySelector("script.explorer-data").textContent);
    var form = root.querySelector("form.explorer-controls");
    form.hidden = false;
    root.querySelector(".explorer-note").hidden = true;
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    return { data: data, form: form, count: root.querySelector(".explorer-count"), sources: bySource(data) };
  }

  /* ---------- a chapter's explorer: source, topic, speaker, years, words ---------- */
  function setupExplorer(root) {
    var ctx = start(root);
    var rows = ctx.data.rows;
    var form = ctx.form;
    var list = root.querySelector(".explorer-list");
    var more = root.querySelector(".explorer-more");
    var limit = ctx.data.page;
    var timer = null;

    function value(name) { return form.elements[name].value; }

    function matches() {
      var source = value("source"), topic = value("topic"), speaker = value("speaker");
      var a = parseInt(value("from"), 10), b = parseInt(value("to"), 10);
      var low = Math.min(a, b), high = Math.max(a, b);
      var words = fold(value("words").trim());
      return rows.filter(function (r) {
        return (!source || r.s === source) && (!topic || r.g.indexOf(topic) !== -1) &&
          (!speaker || r.p === speaker) && r.y >= low && r.y <= high &&
          (!words || fold(r.t).indexOf(words) !== -1);
      });
    }

    function render() {
      var found = matches();
      var shown = found.slice(0, limit);
      var frag = document.createDocumentFragment();
      shown.forEach(function (r) { frag.appendChild(item(r, ctx.sources[r.s])); });
      list.textContent = "";
      list.appendChild(frag);
      var text = found.length + " of " + plural(rows.length, "excerpt");
      if (!found.length) {
        text += ": none matches; clear a filter or try another word.";
      } else {
        text += shown.length < found.length ? "; showing the first " + shown.length + "." : ".";
      }
      ctx.count.textContent = text;
      root.dataset.matches = String(found.length);
      root.dataset.shown = String(shown.length);
      more.hidden = shown.length >= found.length;
      more.textContent = "Show " + Math.min(ctx.data.page, found.length - shown.length) + " more";
    }

    function update() { limit = ctx.data.page; render(); }

    form.addEventListener("change", update);
    form.addEventListener("input", function (event) {
      if (event.target.name !== "words") { return; }
      clearTimeout(timer);
      timer = setTimeout(update, 200);  // one announcement per pause in typing, not per key
    });
    form.addEventListener("reset", function () { setTimeout(update, 0); });
    more.addEventListener("click", function () { limit += ctx.data.page; render(); });
    render();
    root.dataset.ready = "true";
  }

  /* ---------- the compare view: one topic, the ticked sources side by side ---------- */
  function column(source, found, shownAtOnce, heading) {
    var div = make("div", { "class": "compare-column", "data-source": source.id });
    div.appendChild(make(heading, { "class": "compare-source" }, source.cite));
    div.appendChild(make("p", { "class": "compare-meta" },
      source.kind + ", " + source.span + ": " + plural(found.length, "excerpt")));
    if (!found.length) {
      div.appendChild(make("p", { "class": "compare-silent" },
        "Nothing on this topic in the book's excerpts of this source."));
      return div;
    }
    function listOf(part) {
      var ul = make("ul", { "class": "compare-excerpts" });
      part.forEach(function (r) { ul.appendChild(item(r, source)); });
      return ul;
    }
    div.appendChild(listOf(found.slice(0, shownAtOnce)));
    if (found.length > shownAtOnce) {
      var details = make("details", { "class": "compare-more" });
      details.appendChild(make("summary", {}, (found.length - shownAtOnce) + " more from this source"));
      details.appendChild(listOf(found.slice(shownAtOnce)));
      div.appendChild(details);
    }
    return div;
  }

  function setupCompare(root) {
    var ctx = start(root);
    var form = ctx.form;
    var grid = root.querySelector(".compare-grid");

    function render() {
      var topic = form.elements.topic.value;
      var ticked = Array.prototype.filter.call(form.querySelectorAll("input[name=source]"),
        function (box) { return box.checked; }).map(function (box) { return box.value; });
      var chosen = ctx.data.sources.filter(function (s) { return ticked.indexOf(s.id) !== -1; });
      var speaking = 0;
      grid.textContent = "";
      chosen.forEach(function (source) {
        var found = ctx.data.rows.filter(function (r) { return r.s === source.id && r.g.indexOf(topic) !== -1; });
        if (found.length) { speaking += 1; }
        grid.appendChild(column(source, found, ctx.data.shown, ctx.data.heading));
      });
      var label = ctx.data.labels[topic];
      var text = speaking + " of " + chosen.length + " chosen sources speak on \u201c" + label + "\u201d.";
      if (chosen.length < 2) { text = "Tick two or more sources to compare them. " + text; }
      ctx.count.textContent = text;
      root.dataset.topic = topic;
      root.dataset.columns = String(chosen.length);
    }

    form.addEventListener("change", render);
    render();
    root.dataset.ready = "true";
  }

  function setupAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".brbook-explorer:not([data-ready])"), setupExplorer);
    Array.prototype.forEach.call(document.querySelectorAll(".brbook-compare:not([data-ready])"), setupCompare);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupAll);
  } else {
    setupAll();
  }
})();
