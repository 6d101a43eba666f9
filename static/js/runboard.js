// Live refresh asks for whatever the address bar shows now (filters change it through
// hx-push-url), and pauses while the tab is hidden: nobody reads it, the server need not answer.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.elt.hasAttribute("data-live")) {
    event.detail.path = window.location.pathname + window.location.search;
  }
});
document.addEventListener("htmx:beforeRequest", (event) => {
  if (document.hidden && event.detail.elt.hasAttribute("data-live")) {
    event.preventDefault();
  }
});

// Times default to the browser's zone until the reader picks one.
if (!document.cookie.split("; ").some((c) => c.startsWith("tz="))) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.cookie = `tz=${encodeURIComponent(zone)}; max-age=31536000; path=/; samesite=lax`;
}
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-autosubmit]");
  if (!form) return;
  // a date typed in means a custom window, whatever the window menu said
  if (event.target.type === "date" && form.elements.window) form.elements.window.value = "custom";
  form.submit();
});

// "/" jumps to the page's search box, as in most tools; typing in a field is left alone.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.target.closest("input, textarea, select, [contenteditable]")) return;
  const search = document.querySelector('input[type="search"]');
  if (search) {
    event.preventDefault();
    search.focus();
  }
});

// Buttons marked data-show-errors show the server's explanation of a failure (say, the task
// queue is down) where the answer would have gone, instead of nothing happening.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.isError && event.detail.elt.hasAttribute("data-show-errors")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false; // handled: shown to the reader
  }
});

// A log opens at its tail, where the error usually is; "find" marks the lines that hold the
// text and jumps to the first.
document.addEventListener("htmx:afterSwap", (event) => {
  const log = event.detail.target.querySelector("[data-log-tail]");
  if (log) log.scrollTop = log.scrollHeight;
});
document.addEventListener("input", (event) => {
  if (!event.target.matches("[data-log-find]")) return;
  const wanted = event.target.value.trim().toLowerCase();
  const lines = document.querySelectorAll("#log-lines > span");
  let first = null;
  let count = 0;
  lines.forEach((line) => {
    const hit = wanted !== "" && line.textContent.toLowerCase().includes(wanted);
    line.classList.toggle("hit", hit);
    if (hit) {
      count += 1;
      first = first || line;
    }
  });
  document.querySelector("[data-log-count]").textContent = wanted ? `${count} line${count === 1 ? "" : "s"}` : "";
  if (first) first.scrollIntoView({ block: "center" });
});

// The DAG: pan and zoom (svg-pan-zoom), fit, jump to the failing step, find steps by name.
// Zoom and position are kept when a live refresh replaces the graph.
let dagView = null;
let dagKept = null;

function startDag(root) {
  const svg = root.querySelector("[data-dag-view] svg");
  if (!svg || typeof svgPanZoom === "undefined") return;
  // a small graph gets a small frame: as tall as it is drawn, up to 70% of the window
  const drawn = parseFloat(svg.getAttribute("height")) * (4 / 3); // graphviz sizes in pt
  svg.closest("[data-dag-view]").style.height = `${Math.min(drawn + 16, window.innerHeight * 0.7)}px`;
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  // set through the CSSOM, which the CSP allows: svg-pan-zoom would otherwise write a style
  // attribute, which it refuses
  svg.style.overflow = "hidden";
  dagView = svgPanZoom(svg, { fit: true, center: true, minZoom: 0.02, maxZoom: 50,
    dblClickZoomEnabled: false, zoomScaleSensitivity: 0.3 });
  if (dagKept) {
    // the same scale as before, though the new drawing may be a little larger or smaller
    dagView.zoom((dagView.getZoom() * dagKept.scale) / dagView.getSizes().realZoom);
    dagView.pan(dagKept.pan);
  } else fitDag();
  markFound();
}

// the whole graph in view, but never drawn larger than life
function fitDag() {
  dagView.fit();
  if (dagView.getSizes().realZoom > 1) dagView.zoom(dagView.getZoom() / dagView.getSizes().realZoom);
  dagView.center();
}

function centreOn(node) {
  if (dagView.getSizes().realZoom < 1) dagView.zoom(dagView.getZoom() / dagView.getSizes().realZoom);
  const frame = document.querySelector("[data-dag-view]").getBoundingClientRect();
  const box = node.getBoundingClientRect();
  dagView.panBy({ x: frame.left + frame.width / 2 - (box.left + box.width / 2),
    y: frame.top + frame.height / 2 - (box.top + box.height / 2) });
}

document.addEventListener("htmx:load", (event) => startDag(event.detail.elt));
document.addEventListener("htmx:beforeSwap", () => {
  if (dagView) dagKept = { scale: dagView.getSizes().realZoom, pan: dagView.getPan() };
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-dag-action]");
  if (!button || !dagView) return;
  const action = button.dataset.dagAction;
  if (action === "fit") fitDag();
  else if (action === "in") dagView.zoomIn();
  else if (action === "out") dagView.zoomOut();
  else if (action === "failing") centreOn(document.getElementById(button.dataset.dagNode));
});
// outline the steps whose name holds the find box's text; the box survives a live refresh
// (hx-preserve), so the new drawing is marked again
function markFound() {
  const wanted = (document.querySelector("[data-dag-find]")?.value || "").trim().toLowerCase();
  const found = [];
  document.querySelectorAll("[data-dag-view] g.node").forEach((node) => {
    const hit = wanted !== "" && node.textContent.toLowerCase().includes(wanted);
    node.classList.toggle("found", hit);
    if (hit) found.push(node);
  });
  const count = document.querySelector("[data-dag-count]");
  if (count) count.textContent = wanted ? `${found.length} found` : "";
  return found;
}
document.addEventListener("input", (event) => {
  if (!event.target.matches("[data-dag-find]") || !dagView) return;
  const found = markFound();
  if (found.length) centreOn(found[0]);
});
