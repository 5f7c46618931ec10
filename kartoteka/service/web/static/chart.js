// The link chart: an entity's neighbourhood drawn with cytoscape, from /chart/{ref}.json.
// Click (or use the lists' "Expand" buttons) to expand a node, click an edge to read its
// evidence; relation types and a date window filter both the drawing and the lists.
// The lists beside the chart are rebuilt from the same model, so a keyboard reaches all of it.
// Everything shown comes from the JSON routes; text is set with textContent only.
"use strict";
(function () {
  const box = document.getElementById("chart");
  if (!box || typeof cytoscape === "undefined") return;
  const center = box.dataset.center;
  const form = document.getElementById("chart-filters");
  const nodeList = document.getElementById("node-list");
  const edgeList = document.getElementById("edge-list");
  const edgeHeading = document.getElementById("h-edges");
  const status = document.getElementById("chart-status");

  const nodes = new Map(); // id -> node from the JSON
  const edges = new Map(); // id -> edge from the JSON
  const expanded = new Set();
  const labels = new Set();

  // The chart's state lives in the address's fragment (#expand=ID,ID&hide=TYPE,TYPE&since=&until=),
  // so an expanded, filtered chart can be bookmarked or sent. A fragment never reaches the
  // server; an id the reader may not see is skipped as a missing one is.
  const state = (() => {
    const p = new URLSearchParams(location.hash.slice(1));
    const list = (k) => (p.get(k) || "").split(",").filter(Boolean);
    return { expand: list("expand"), hide: new Set(list("hide")), since: p.get("since") || "", until: p.get("until") || "" };
  })();
  let restoring = true; // while the fragment is being applied, it is not written

  const COLOURS = { PERSON: "#0b4f8a", ORG: "#7a3b00", PLACE: "#1f6b1f", DATE: "#6b1f6b" };

  // Drawing cost is what keeps a 200-neighbour expansion fast. Zoomed in, where a reader can
  // read them: node labels, arrows, straight edges (curved only between entities joined more
  // than once). Zoomed out, where a label or an arrow would be a speck: plain lines and dots,
  // the cheapest to draw. An edge's type is in the lists beside the chart, and shown on it
  // when it is selected.
  const READABLE_ZOOM = 0.6;
  function sheet(detailed) {
    return [
      {
        selector: "node",
        style: {
          label: detailed ? "data(name)" : "",
          "background-color": "#4a4a4a",
          color: "#1b1b1b",
          "font-size": 11,
          "text-valign": "bottom",
          "text-margin-y": 3,
          width: 14,
          height: 14,
        },
      },
      { selector: "node[kind = 'PERSON']", style: { "background-color": COLOURS.PERSON } },
      { selector: "node[kind = 'ORG']", style: { "background-color": COLOURS.ORG } },
      { selector: "node[kind = 'PLACE']", style: { "background-color": COLOURS.PLACE } },
      { selector: "node[kind = 'DATE']", style: { "background-color": COLOURS.DATE } },
      { selector: "node.expanded", style: { width: 22, height: 22, "border-width": 3, "border-color": "#d17a00" } },
      { selector: "node:selected", style: { label: "data(name)" } },
      {
        selector: "edge",
        style: detailed
          ? {
              width: 1.5,
              "line-color": "#8a8a8a",
              "target-arrow-color": "#8a8a8a",
              "target-arrow-shape": "triangle",
              "curve-style": "straight",
            }
          : { width: 1, "line-color": "#8a8a8a", "curve-style": "haystack", "haystack-radius": 0 },
      },
      ...(detailed ? [{ selector: "edge.parallel", style: { "curve-style": "bezier" } }] : []),
      {
        selector: "edge:selected",
        style: {
          "line-color": "#d17a00",
          "target-arrow-color": "#d17a00",
          width: 3,
          label: "data(label)",
          "font-size": 10,
          color: "#1b1b1b",
          "text-rotation": "autorotate",
        },
      },
      { selector: ".filtered", style: { display: "none" } },
    ];
  }

  box.classList.add("drawn");
  let detailed = true;
  const cy = cytoscape({ container: box, minZoom: 0.05, maxZoom: 1.6, style: sheet(detailed) });

  // Detail on or off as the zoom crosses READABLE_ZOOM (one restyle at the crossing).
  function syncDetail() {
    const want = cy.zoom() >= READABLE_ZOOM;
    if (want === detailed) return;
    detailed = want;
    cy.style(sheet(want));
  }
  cy.on("zoom", syncDetail);

  // For the benchmark and the browser tests: expand a node from outside, await the drawing.
  const api = { expand: (id) => expand(id), cy, last: null, ready: null };

  function nameOf(id) {
    const n = nodes.get(id);
    return n ? n.name : id;
  }

  // Does a relation dated [d0, d1] (ISO prefixes of any precision) overlap [since, until]?
  // The same rule as the server's (kartoteka.archive.analysis._in_window).
  function inWindow(d0, d1, since, until) {
    if (!d0) return false;
    const last = d1 || d0;
    if (until && d0.slice(0, until.length) > until.slice(0, d0.length)) return false;
    return !(since && last.slice(0, since.length) < since.slice(0, last.length));
  }

  function filters() {
    const types = new Set();
    for (const box of form.querySelectorAll("input[name=type]")) if (box.checked) types.add(box.value);
    const valid = (v) => (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(v) ? v : "");
    return { types, since: valid(form.elements.since.value.trim()), until: valid(form.elements.until.value.trim()) };
  }

  function edgeShown(edge, f) {
    if (!f.types.has(edge.type)) return false;
    if (!f.since && !f.until) return true;
    return edge.evidence.some((e) => inWindow(e.start, e.end, f.since || null, f.until || null));
  }

  function typeBoxes(types) {
    const set = form.querySelector("fieldset");
    const have = new Set([...set.querySelectorAll("input[name=type]")].map((b) => b.value));
    for (const t of types) {
      if (have.has(t)) continue;
      have.add(t);
      const none = set.querySelector(".note");
      if (none) none.remove();
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = "type";
      input.value = t;
      input.checked = !state.hide.has(t);
      label.append(input, " " + t.replace(/_/g, " "));
      set.append(label);
    }
  }

  const pairs = new Map(); // "a|b" (unordered) -> how many edges join them

  function pairOf(e) {
    return e.source < e.target ? e.source + "|" + e.target : e.target + "|" + e.source;
  }

  // Add a neighbourhood's new nodes and edges. Around an expanded node, the new nodes are
  // placed on a circle round it as they are added (nothing else moves; no layout run,
  // which would measure every label first).
  function add(hood, around) {
    const fresh = [];
    const parallel = new Set();
    const newNodes = hood.nodes.filter((n) => !nodes.has(n.id));
    const p = around ? around.position() : { x: 0, y: 0 };
    const r = Math.max(80, newNodes.length * 9);
    const step = (2 * Math.PI) / Math.max(newNodes.length, 1);
    newNodes.forEach((n, i) => {
      nodes.set(n.id, n);
      const position = { x: p.x + r * Math.cos(i * step), y: p.y + r * Math.sin(i * step) };
      fresh.push({ group: "nodes", data: { id: n.id, name: n.name, kind: n.kind }, position });
    });
    for (const e of hood.edges) {
      if (edges.has(e.id)) continue;
      edges.set(e.id, e);
      const pair = pairOf(e);
      pairs.set(pair, (pairs.get(pair) || 0) + 1);
      if (pairs.get(pair) > 1) parallel.add(pair);
      fresh.push({
        group: "edges",
        data: { id: e.id, source: e.source, target: e.target, label: e.type.replace(/_/g, " ") },
      });
    }
    for (const l of hood.labels) labels.add(l);
    typeBoxes(hood.edges.map((e) => e.type));
    const added = cy.add(fresh);
    for (const [id, e] of edges) if (parallel.has(pairOf(e))) cy.getElementById(id).addClass("parallel");
    return added;
  }

  // The first neighbourhood: the entity in the middle, its neighbours round it.
  function layoutFirst() {
    cy.layout({
      name: "concentric",
      animate: false,
      concentric: (n) => (n.id() === center ? 2 : 1),
      levelWidth: () => 1,
      minNodeSpacing: 18,
    }).run();
  }

  // Fit the drawing to its box from the shown nodes' positions alone: cy.fit would measure
  // every label, and a ":visible" selector would restyle every node first.
  function fit(visible) {
    if (!visible.size) return;
    let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
    visible.forEach((id) => {
      const q = cy.getElementById(id).position();
      x1 = Math.min(x1, q.x); y1 = Math.min(y1, q.y); x2 = Math.max(x2, q.x); y2 = Math.max(y2, q.y);
    });
    const pad = 40, w = cy.width(), h = cy.height();
    const zoom = Math.min(1.6, (w - 2 * pad) / Math.max(x2 - x1, 1), (h - 2 * pad) / Math.max(y2 - y1, 1));
    cy.viewport({ zoom, pan: { x: w / 2 - zoom * (x1 + x2) / 2, y: h / 2 - zoom * (y1 + y2) / 2 } });
  }

  // Show in the drawing what the filters let through; returns what the lists need.
  // A class is touched only where it changes: restyling every element is most of the cost.
  function filterDrawing() {
    const f = filters();
    const visible = new Set([center, ...expanded]);
    const set = (el, hidden) => {
      if (el.hasClass("filtered") !== hidden) el.toggleClass("filtered", hidden);
    };
    cy.batch(() => {
      for (const [id, e] of edges) {
        const shown = edgeShown(e, f);
        set(cy.getElementById(id), !shown);
        if (shown) {
          visible.add(e.source);
          visible.add(e.target);
        }
      }
      for (const id of nodes.keys()) set(cy.getElementById(id), !visible.has(id));
    });
    return [f, visible];
  }

  function applyFilters() {
    renderLists(...filterDrawing());
    saveState();
  }

  function saveState() {
    if (restoring) return;
    const p = new URLSearchParams();
    const more = [...expanded].filter((id) => id !== center);
    if (more.length) p.set("expand", more.join(","));
    const hidden = [...form.querySelectorAll("input[name=type]")].filter((b) => !b.checked).map((b) => b.value);
    if (hidden.length) p.set("hide", hidden.join(","));
    const f = filters();
    if (f.since) p.set("since", f.since);
    if (f.until) p.set("until", f.until);
    const hash = p.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function nextPaint() {
    return new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  }

  function link(href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function renderLists(f, visible) {
    const nodeItems = [];
    for (const n of nodes.values()) {
      if (!visible.has(n.id)) continue;
      const li = document.createElement("li");
      li.dataset.id = n.id;
      if (n.id === center) li.className = "hub";
      const kind = document.createElement("span");
      kind.className = "note";
      kind.textContent = n.kind.toLowerCase();
      const button = document.createElement("button");
      button.type = "button";
      button.className = "expand";
      button.textContent = expanded.has(n.id) ? "expanded" : "expand";
      button.disabled = expanded.has(n.id);
      button.setAttribute("aria-label", (expanded.has(n.id) ? "Expanded: " : "Expand ") + n.name);
      button.addEventListener("click", () => expand(n.id));
      li.append(link("/dossier/" + encodeURIComponent(n.id), n.name), " ", kind, " · ", button);
      nodeItems.push(li);
    }
    nodeList.replaceChildren(...nodeItems);
    const edgeItems = [];
    let i = 0;
    for (const e of edges.values()) {
      if (!edgeShown(e, f)) continue;
      i += 1;
      const li = document.createElement("li");
      const details = document.createElement("details");
      details.id = "edge-" + i;
      details.dataset.edge = e.id;
      const summary = document.createElement("summary");
      const type = document.createElement("em");
      type.textContent = e.type.replace(/_/g, " ");
      const when = e.start ? " (" + e.start + (e.end && e.end !== e.start ? " to " + e.end : "") + ")" : "";
      summary.append(nameOf(e.source) + " ", type, " " + nameOf(e.target) + when);
      const ul = document.createElement("ul");
      ul.className = "plain evidence";
      for (const ev of e.evidence) {
        const item = document.createElement("li");
        const mark = document.createElement("span");
        mark.className = "mark";
        mark.textContent = ev.marking;
        item.append(
          mark,
          " ",
          link("/documents/" + encodeURIComponent(ev.document_id) + "#p" + ev.portion, ev.document + ", passage " + ev.portion),
          ": " + ev.snippet,
        );
        ul.append(item);
      }
      details.append(summary, ul);
      li.append(details);
      edgeItems.push(li);
    }
    if (!edgeItems.length) {
      const li = document.createElement("li");
      li.textContent = "No relation you may see within these filters.";
      edgeItems.push(li);
    }
    edgeList.replaceChildren(...edgeItems);
    edgeHeading.textContent = "Relations (" + i + ")";
  }

  async function banner() {
    const params = new URLSearchParams();
    for (const l of [...labels].sort()) params.append("label", l);
    const r = await fetch("/chart/banner.json?" + params.toString(), { credentials: "same-origin" });
    if (!r.ok) return;
    const text = (await r.json()).banner;
    for (const el of document.querySelectorAll(".banner")) el.textContent = text;
  }

  async function load(id) {
    const r = await fetch("/chart/" + encodeURIComponent(id) + ".json", { credentials: "same-origin" });
    if (!r.ok) throw new Error("could not load the neighbourhood (" + r.status + ")");
    return r.json();
  }

  async function expand(id) {
    if (expanded.has(id)) return 0;
    status.textContent = "Expanding " + nameOf(id) + " …";
    const t0 = performance.now();
    const hood = await load(id);
    const t1 = performance.now();
    expanded.add(id);
    const added = add(hood, cy.getElementById(id));
    cy.getElementById(id).addClass("expanded");
    const shown = filterDrawing();
    fit(shown[1]);
    const t2 = performance.now();
    // The chart is painted first (what the reader waits for); the lists follow in the next task.
    await nextPaint();
    const t3 = performance.now();
    renderLists(...shown);
    status.textContent = nameOf(id) + ": " + added.nodes().length + " new nodes, " + added.edges().length + " new relations.";
    await nextPaint();
    const t4 = performance.now();
    await banner();
    saveState();
    // How long the last expansion took, in parts (bench/web_chart.py reads it).
    api.last = {
      fetch: t1 - t0,
      draw: t2 - t1,
      painted: t3 - t0,
      lists: t4 - t3,
      banner: performance.now() - t4,
      nodes: added.nodes().length,
    };
    return added.nodes().length;
  }

  cy.on("tap", "node", (evt) => {
    expand(evt.target.id()).catch((err) => (status.textContent = String(err.message || err)));
  });
  cy.on("tap", "edge", (evt) => {
    const id = evt.target.id();
    for (const d of edgeList.querySelectorAll("details")) {
      if (d.dataset.edge !== id) continue;
      d.open = true;
      d.scrollIntoView({ block: "nearest" });
      d.querySelector("summary").focus();
    }
  });
  form.addEventListener("submit", (evt) => {
    evt.preventDefault();
    applyFilters();
  });
  form.addEventListener("change", applyFilters);

  const ready = load(center).then(async (hood) => {
    expanded.add(center);
    add(hood, null);
    cy.getElementById(center).addClass("expanded");
    layoutFirst();
    // The page's own type boxes (it lists and filters without script too), then the drawing's.
    for (const b of form.querySelectorAll("input[name=type]")) if (state.hide.has(b.value)) b.checked = false;
    if (state.since) form.elements.since.value = state.since;
    if (state.until) form.elements.until.value = state.until;
    const shown = filterDrawing();
    fit(shown[1]);
    renderLists(...shown);
    // The nodes the address names, in its order; one that can't be loaded is skipped.
    for (const id of state.expand) {
      try {
        await expand(id);
      } catch (err) {
        status.textContent = "";
      }
    }
    restoring = false;
    if (state.expand.length || state.hide.size || state.since || state.until) applyFilters();
  });
  ready.catch((err) => (status.textContent = String(err.message || err)));
  api.ready = ready;
  window.kartotekaChart = api;
})();
