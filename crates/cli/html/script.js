(function () {
  var d = document, b = d.body;
  window.onerror = function (m) { b.setAttribute("data-jserror", String(m)); };
  var box = d.getElementById("cards");
  if (box) {
    // One set of cards for the whole data, then one per slice (--by), of which the
    // selector shows one.
    var boxes = Array.prototype.slice.call(d.querySelectorAll("div.cards"));
    var sets = boxes.map(function (x) {
      var cs = Array.prototype.slice.call(x.children);
      cs.forEach(function (c, i) { c.pfIndex = i; });
      return cs;
    });
    var cards = sets[boxes.indexOf(box)];
    var pick = d.getElementById("slice");
    var q = d.getElementById("q"), s = d.getElementById("sort"), o = d.getElementById("only"), n = d.getElementById("shown");
    var num = function (c, k) { return parseFloat(c.getAttribute("data-" + k)) || 0; };
    var pos = function (a, c) { return a.pfIndex - c.pfIndex; };
    var cmp = {
      i: pos,
      n: function (a, c) { var x = a.getAttribute("data-n"), y = c.getAttribute("data-n"); return x < y ? -1 : x > y ? 1 : pos(a, c); },
      m: function (a, c) { return num(c, "m") - num(a, "m") || pos(a, c); },
      d: function (a, c) { return num(c, "d") - num(a, "d") || pos(a, c); }
    };
    var filter = function () {
      var t = q.value.trim().toLowerCase(), only = o.checked, k = 0;
      for (var i = 0; i < cards.length; i++) {
        var c = cards[i];
        var ok = (!t || c.getAttribute("data-n").indexOf(t) >= 0) && (!only || c.getAttribute("data-r") !== "2");
        c.hidden = !ok;
        if (ok) k++;
      }
      n.textContent = k + " of " + cards.length + " features";
    };
    var sort = function () {
      var f = d.createDocumentFragment();
      cards.slice().sort(cmp[s.value] || pos).forEach(function (c) { f.appendChild(c); });
      box.appendChild(f);
    };
    // Large pages keep each card body in an inert text/x-card data block
    // until the card comes near the viewport (or the page is printed).
    var show = function (c) {
      var s = c.querySelector("script[type='text/x-card']");
      if (s) { c.insertAdjacentHTML("beforeend", s.textContent); s.remove(); }
      c.classList.remove("lz");
    };
    var lazy = Array.prototype.slice.call(d.querySelectorAll("div.cards article.lz"));
    if (lazy.length) {
      if ("IntersectionObserver" in window) {
        var io = new IntersectionObserver(function (es) {
          es.forEach(function (e) { if (e.isIntersecting) { io.unobserve(e.target); show(e.target); } });
        }, { rootMargin: "1000px 0px" });
        lazy.forEach(function (c) { io.observe(c); });
      } else {
        lazy.forEach(show);
      }
      window.addEventListener("beforeprint", function () {
        Array.prototype.slice.call(d.querySelectorAll("div.cards article.lz")).forEach(show);
      });
    }
    // Show the cards of one slice ("" is the whole data); an unknown key changes nothing.
    var choose = function (key) {
      var k = -1;
      for (var i = 0; i < boxes.length; i++) if (boxes[i].getAttribute("data-slice") === key) k = i;
      if (k < 0) return;
      boxes.forEach(function (x, i) { x.hidden = i !== k; });
      box = boxes[k];
      cards = sets[k];
      if (pick) pick.value = key;
      sort();
      filter();
    };
    var timer = 0;
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(filter, 120); });
    o.addEventListener("change", filter);
    s.addEventListener("change", sort);
    if (pick) pick.addEventListener("change", function () { choose(pick.value); });
    // A link can carry the view: report.html#q=price&sort=m&slice=species_Adelie
    var h = new URLSearchParams(location.hash.slice(1));
    if (h.has("q")) q.value = h.get("q");
    if (h.has("sort") && cmp[h.get("sort")]) { s.value = h.get("sort"); sort(); }
    if (h.has("slice")) choose(h.get("slice"));
    window.addEventListener("hashchange", function () {
      var g = new URLSearchParams(location.hash.slice(1));
      if (g.has("slice")) { choose(g.get("slice")); return; }
      // A link to a card of a hidden set (a finding's column) shows that set first.
      var t = location.hash.length > 1 && d.getElementById(location.hash.slice(1));
      if (t && t.parentNode && t.parentNode.hidden) {
        choose(t.parentNode.getAttribute("data-slice"));
        t.scrollIntoView();
      }
    });
    filter();
  }
  b.setAttribute("data-ready", "1");
  b.setAttribute("data-ms", String(Math.round(performance.now())));
})();
