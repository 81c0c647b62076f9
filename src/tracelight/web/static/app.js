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

  document.addEventListener("DOMContentLoaded", drawGraph);
})();
