// tracelight workspace behaviour. Loaded from 'self' only (the CSP allows no inline script).
(function () {
  "use strict";

  function nodeColor(type) {
    return {ad: "#24508f", phone: "#d4a017", email: "#3b7a57", social: "#8e44ad"}[type] || "#98a2b3";
  }

  function drawGraph() {
    var el = document.getElementById("graph");
    if (!el || typeof window.cytoscape !== "function") return;
    var elements;
    try { elements = JSON.parse(el.getAttribute("data-elements")); } catch (e) { return; }
    var cy = window.cytoscape({
      container: el,
      elements: elements,
      style: [
        {selector: "node", style: {
          "background-color": function (n) { return nodeColor(n.data("type")); },
          "label": "data(label)", "font-size": 8, "text-wrap": "ellipsis", "text-max-width": 90, "color": "#1d2430",
          "text-valign": "bottom", "text-margin-y": 3, "width": 14, "height": 14}},
        {selector: "node[type = 'ad']", style: {"shape": "round-rectangle", "width": 18, "height": 12}},
        {selector: "edge", style: {"width": 1, "line-color": "#b7bfcc", "curve-style": "haystack"}}
      ],
      layout: {name: elements.nodes.length > 250 ? "grid" : "cose", animate: false, padding: 30,
               nodeRepulsion: function () { return 12000; }, idealEdgeLength: function () { return 70; }},
      minZoom: 0.1, maxZoom: 1.6
    });
    cy.on("tap", "node", function (evt) {
      var href = evt.target.data("href");
      if (href) window.location.href = href;
    });
  }

  // the triage queue: selection (shift-click for a range), the bulk bar, keyboard shortcuts
  function triage() {
    var form = document.getElementById("triage");
    if (!form) return;
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input.sel"));
    var rows = Array.prototype.slice.call(form.querySelectorAll("tr.qrow"));
    var count = document.getElementById("selcount");
    var last = -1, cur = -1;
    function update() {
      var n = selected();
      if (count) count.textContent = String(n);
      form.classList.toggle("has-selection", n > 0);
    }
    function syncNet(box) {  // one network, one state: every box naming it follows
      var net = box.getAttribute("data-net");
      if (!net) return;
      boxes.forEach(function (b) { if (b.getAttribute("data-net") === net) b.checked = box.checked; });
    }
    boxes.forEach(function (box, i) {
      box.addEventListener("click", function (ev) {
        if (ev.shiftKey && last >= 0) {
          var a = Math.min(last, i), b = Math.max(last, i);
          for (var j = a; j <= b; j++) {  // a range selects ads; network boxes stay as they are
            if (!boxes[j].classList.contains("net") || j === i) boxes[j].checked = box.checked;
          }
        }
        last = i;
        syncNet(box);
        update();
      });
    });
    function selected() {  // a network counts once, however many boxes name it
      var seen = {};
      boxes.forEach(function (b) { if (b.checked) seen[b.value] = true; });
      return Object.keys(seen).length;
    }
    var all = document.getElementById("selall");
    if (all) all.addEventListener("change", function () {
      rows.forEach(function (r) { var b = r.querySelector("input.sel"); if (b) b.checked = all.checked; });
      update();
    });
    function focusRow(i) {
      if (!rows.length) return;
      cur = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r, j) { r.classList.toggle("current", j === cur); });
      rows[cur].scrollIntoView({block: "nearest"});
    }
    function submit(action, state) {
      if (state) form.querySelector("select[name=state]").value = state;
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "action"; hidden.value = action;
      form.appendChild(hidden);
      form.submit();
    }
    document.addEventListener("keydown", function (ev) {
      var t = ev.target && ev.target.tagName;
      var typing = (t === "INPUT" && ev.target.type !== "checkbox") || t === "SELECT" || t === "TEXTAREA";
      if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;  // keys work on a ticked box too
      var row = rows[cur], box = row && row.querySelector("input.sel");
      if (ev.key === "j") focusRow(cur + 1);
      else if (ev.key === "k") focusRow(cur - 1);
      else if (ev.key === "x" && box) { box.checked = !box.checked; update(); }
      else if (ev.key === "w" && row) { var nb = row.querySelector("input.net"); if (nb) { nb.checked = !nb.checked; syncNet(nb); update(); } }
      else if (ev.key === "o" && row) { var a = row.querySelector("a.open"); if (a) window.location.href = a.href; }
      else if (ev.key === "e") submit("mark", "escalated");
      else if (ev.key === "n") submit("mark", "no concern");
      else if (ev.key === "a") submit("assign");
      else return;
      ev.preventDefault();
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", drawGraph);
  document.addEventListener("DOMContentLoaded", triage);
})();
