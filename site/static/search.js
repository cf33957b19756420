// Filters the project directory as you type, from the static index (search-index.json).
// Without JavaScript the directory is the full list and the filter stays hidden.
(function () {
  "use strict";
  var box = document.getElementById("search");
  var input = document.getElementById("search-input");
  var status = document.getElementById("search-status");
  var list = document.getElementById("directory");
  if (!box || !input || !list || !window.fetch) { return; }
  fetch(input.getAttribute("data-index")).then(function (r) { return r.json(); }).then(function (index) {
    var haystack = {};
    index.projects.forEach(function (p) {
      haystack[p.name] = [p.name].concat(p.products || [], p.versions || []).join(" ").toLowerCase();
    });
    var items = Array.prototype.slice.call(list.querySelectorAll("li[data-name]"));
    box.hidden = false;
    input.addEventListener("input", function () {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      items.forEach(function (li) {
        var text = haystack[li.getAttribute("data-name")] || li.getAttribute("data-name");
        var match = terms.every(function (t) { return text.indexOf(t) !== -1; });
        li.hidden = !match;
        if (match) { shown += 1; }
      });
      status.textContent = terms.length ? shown + " of " + items.length + " projects" : "";
    });
  }).catch(function () { /* the full list stays */ });
})();
