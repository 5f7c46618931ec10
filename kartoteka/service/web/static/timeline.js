// The dossier's timeline drawn with vis-timeline from the table of dated passages beside it.
// The table is the record (it works without script, and for keyboards and screen readers);
// this only draws it. A year or a month is drawn as a range over the whole period it may mean.
"use strict";
(function () {
  const table = document.getElementById("timeline-table");
  const box = document.getElementById("timeline-chart");
  if (!table || !box || typeof vis === "undefined") return;

  function dayAfter(iso) {
    const d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d;
  }

  const items = [];
  for (const row of table.tBodies[0].rows) {
    const start = row.dataset.start, end = row.dataset.end, precision = row.dataset.precision;
    if (!start) continue;
    const cells = row.cells;
    const cite = cells[2].querySelector("a");
    const item = {
      id: row.id,
      content: cells[1].textContent.trim(),
      title: (cite ? cite.textContent.trim() + ": " : "") + (cells[2].querySelector(".snippet") || cells[2]).textContent.trim(),
      start: new Date(start + "T00:00:00Z"),
      className: "precision-" + precision,
    };
    if (precision === "year" || precision === "month") {
      item.type = "range";
      item.end = dayAfter(end);
    } else {
      item.type = "point";
    }
    items.push(item);
  }
  if (!items.length) return;
  box.classList.add("drawn");
  const timeline = new vis.Timeline(box, new vis.DataSet(items), {
    stack: true,
    zoomable: true,
    moveable: true,
    showCurrentTime: false,
    margin: { item: 6 },
  });
  // Choosing an item takes the reader to its row in the table, with its citation.
  timeline.on("select", function (props) {
    const id = props.items && props.items[0];
    const row = id && document.getElementById(id);
    if (!row) return;
    for (const r of table.querySelectorAll("tr.chosen")) r.classList.remove("chosen");
    row.classList.add("chosen");
    row.setAttribute("tabindex", "-1");
    row.focus();
  });
})();
