/* brbook.js: charts and self-checks of the teaching book, with no server and no outside host.
 *
 * Loaded on every page (it is small). Only where a page has charts or self-checks does it load
 * the libraries they need, from the book's own vendor/ folder.
 */
(function () {
  "use strict";

  var root = document.documentElement.dataset.content_root || "";
  var loaded = {};

  /* Scripts inserted with async = false download in parallel but run in insertion order. */
  function load(path) {
    if (!loaded[path]) {
      loaded[path] = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = root + "vendor/" + path;
        s.async = false;
        s.onload = resolve;
        s.onerror = function () { reject(new Error("could not load " + s.src)); };
        document.head.appendChild(s);
      });
    }
    return loaded[path];
  }

  /* ---------- charts: Vega-Lite specs stored as JSON next to their container ---------- */
  function drawCharts(charts) {
    /* specs compiled to Vega at build time (data-grammar="vega") need no Vega-Lite compiler */
    var libs = [load("vega/vega.min.js")];
    if (charts.some(function (el) {
      return el.parentNode.querySelector("script.vega-spec").dataset.grammar !== "vega";
    })) { libs.push(load("vega-lite/vega-lite.min.js")); }
    libs.push(load("vega-embed/vega-embed.min.js"));
    return Promise.all(libs)
      .then(function () {
        return Promise.all(charts.map(function (el) {
          var spec = JSON.parse(el.parentNode.querySelector("script.vega-spec").textContent);
          return window.vegaEmbed(el, spec, { actions: false, renderer: "svg" }).then(function (result) {
            keepLabelled(el);
            tapTooltips(el);
            el.dataset.rendered = "true";
            el.vegaView = result.view;
            saveButtons(el, result.view);
          });
        }));
      })
      .then(function () {
        followColumnWidths(charts);
        document.documentElement.dataset.chartsRendered = "true";
      });
  }

  /* Vega measures a chart's column only when the window's size changes, and a page widened from a phone's
   * width is still being laid out at that moment (its sidebars come back): Chromium measured a 741 px column
   * as 1765 px, and the charts stayed that wide. So each chart's figure is watched as well, and once its
   * width has changed, the charts are told again (a window resize event, the one Vega listens to). */
  function followColumnWidths(charts) {
    if (!window.ResizeObserver) { return; }
    var widths = new Map(), pending = false;
    var observer = new ResizeObserver(function (entries) {
      var changed = entries.some(function (entry) {
        var width = Math.round(entry.contentRect.width), before = widths.get(entry.target);
        widths.set(entry.target, width);
        return before !== undefined && before !== width;
      });
      if (changed && !pending) {
        pending = true;
        requestAnimationFrame(function () { pending = false; window.dispatchEvent(new Event("resize")); });
      }
    });
    charts.forEach(function (el) { observer.observe(el.closest("figure") || el.parentNode); });
  }

  /* Vega opens a tooltip when the pointer moves over a mark, which a tap on a touch screen never
   * does: a tap is replayed as a move at the same point, so the tooltip opens on tap too. */
  function tapTooltips(el) {
    el.addEventListener("pointerup", function (event) {
      if (event.pointerType !== "touch") { return; }
      var target = document.elementFromPoint(event.clientX, event.clientY) || event.target;
      ["pointermove", "mousemove"].forEach(function (type) {
        var Move = type === "pointermove" ? window.PointerEvent : window.MouseEvent;
        target.dispatchEvent(new Move(type, { bubbles: true, cancelable: true, clientX: event.clientX,
                                              clientY: event.clientY, pointerType: "mouse" }));
      });
    });
  }

  /* "Save image" as SVG or PNG, beside the chart's CSV link: drawn by the page's own Vega on a white
   * background (the saved picture reads the same whatever the page's theme), named after the CSV. */
  function saveButtons(el, view) {
    var row = el.parentNode.querySelector(".chart-downloads");
    if (!row) { return; }
    var link = row.querySelector("a.chart-csv");
    var stem = link ? link.getAttribute("download").replace(/\.csv$/, "") : "chart";
    ["svg", "png"].forEach(function (format) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "chart-save";
      button.dataset.format = format;
      button.textContent = "Save image (" + format.toUpperCase() + ")";
      button.addEventListener("click", function () {
        var background = view.background();
        view.background("white");
        view.toImageURL(format, format === "png" ? 2 : 1).then(function (url) {
          var a = document.createElement("a");
          a.href = url;
          a.download = stem + "." + format;
          document.body.appendChild(a);
          a.click();
          a.remove();
        }).finally(function () { view.background(background).run(); });
      });
      row.appendChild(document.createTextNode(" "));
      row.appendChild(button);
    });
  }

  /* The SVG is one image labelled with the chart's description; its inner groups and brush
   * rectangles, which Vega marks as graphics with no text of their own, are left out of the
   * accessibility tree. The controls beside the SVG stay reachable. Vega draws marks again when a
   * control, a brush or the page's width changes, so the labelling is kept up after every drawing
   * (it changes nothing once done, which ends the observer's round). */
  function labelDrawing(el) {
    var svg = el.querySelector("svg");
    if (!svg) { return; }
    Array.prototype.forEach.call(svg.querySelectorAll("[role]"), function (node) {
      node.removeAttribute("role");
      node.removeAttribute("aria-roledescription");
      node.removeAttribute("aria-label");
    });
    if (svg.getAttribute("role") !== "img") { svg.setAttribute("role", "img"); }
    if (svg.hasAttribute("aria-roledescription")) { svg.removeAttribute("aria-roledescription"); }
    if (svg.getAttribute("aria-label") !== el.dataset.label) { svg.setAttribute("aria-label", el.dataset.label); }
  }

  function keepLabelled(el) {
    labelDrawing(el);
    new MutationObserver(function () { labelDrawing(el); }).observe(el, {
      subtree: true, childList: true, attributes: true,
      attributeFilter: ["role", "aria-roledescription", "aria-label"]
    });
  }

  /* ---------- self-checks: answers are salted SHA-256 hashes, feedback is masked ---------- */
  function normalise(text) {
    return String(text).normalize("NFC").toLowerCase().replace(/[\u2018\u2019]/g, "'")
      .replace(/[\u201c\u201d]/g, '"').replace(/[\u2013\u2014]/g, "-").replace(/\s+/g, " ").trim();
  }

  function digest(salt, text) { return window.sha256(salt + "|" + text); }

  /* XOR with a SHA-256 keystream: hides text from a reader of the page source, no more. */
  function unmask(salt, key, encoded) {
    var data = atob(encoded), out = new Uint8Array(data.length), stream = [], block = 0;
    while (stream.length < data.length) {
      stream = stream.concat(window.sha256.array(salt + "|" + key + "|" + block));
      block += 1;
    }
    for (var i = 0; i < data.length; i++) { out[i] = data.charCodeAt(i) ^ stream[i]; }
    return new TextDecoder().decode(out);
  }

  function numberKeys(value, step) {
    var x = parseFloat(String(value).replace(/,/g, "").replace(/\s/g, ""));
    if (isNaN(x)) { return []; }
    return [Math.floor(x / step), Math.ceil(x / step)].map(String);
  }

  function setupCheck(box) {
    var salt = box.dataset.salt, answer = box.dataset.answer, kind = box.dataset.kind;
    var tries = 0, maxTries = parseInt(box.dataset.tries || "3", 10);
    var out = box.querySelector(".self-check-feedback");
    var explain = box.querySelector(".self-check-explanation");
    var worked = box.querySelector(".self-check-worked");

    /* A number self-check's working (the sum that gives the answer) shows only once it is right. */
    function showWorking() {
      if (worked && worked.hidden) {
        worked.textContent = unmask(salt, "worked", worked.dataset.masked);
        worked.hidden = false;
      }
    }

    function reveal() {
      if (explain && explain.hidden) {
        explain.textContent = unmask(salt, "explain", explain.dataset.masked);
        explain.hidden = false;
      }
    }

    function respond(correct, message) {
      tries += 1;
      box.dataset.state = correct ? "correct" : "incorrect";
      out.textContent = (correct ? "Correct. " : "Not yet. ") + (message || "");
      if (correct) { showWorking(); }
      if (correct || tries >= maxTries) { reveal(); }
    }

    box.querySelector(".self-check-submit").addEventListener("click", function () {
      if (kind === "number") {
        var input = box.querySelector("input");
        var keys = numberKeys(input.value, parseFloat(box.dataset.step));
        if (!keys.length) { out.textContent = "Please type a number."; return; }
        var hit = keys.some(function (k) { return digest(salt, k) === answer; });
        var hint = hit ? "" : unmask(salt, "hint", box.dataset.hint || "");
        respond(hit, hint);
        return;
      }
      var chosen = box.querySelector("input:checked");
      if (!chosen) { out.textContent = "Please choose an answer."; return; }
      var value = normalise(chosen.value);
      respond(digest(salt, value) === answer, unmask(salt, "feedback|" + value, chosen.dataset.feedback));
    });
  }

  function start() {
    var charts = Array.prototype.slice.call(document.querySelectorAll(".vega-chart"));
    var checks = document.querySelectorAll(".self-check");
    if (charts.length) {
      drawCharts(charts).catch(function (err) { console.error(err); });
    }
    if (checks.length) {
      load("js-sha256/sha256.min.js").then(function () {
        Array.prototype.forEach.call(checks, setupCheck);
        document.documentElement.dataset.selfChecksReady = "true";
      }).catch(function (err) { console.error(err); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
