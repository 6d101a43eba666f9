// The page's language's words for what this script writes (base.html's #words), each with
// {n} where a number goes.
const WORDS = JSON.parse(document.getElementById("words")?.textContent || "{}");
function say(key, n) {
  return (WORDS[key] || key).replace("{n}", n);
}

// Live refresh asks for whatever the address bar shows now (filters change it through
// hx-push-url), and pauses while the tab is hidden (nobody reads it, the server need not
// answer) and while a button is held down (a drag across the graph is not cut short).
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.elt.hasAttribute("data-live")) {
    event.detail.path = window.location.pathname + window.location.search;
  }
});
document.addEventListener("htmx:beforeRequest", (event) => {
  if ((document.hidden || livePaused || pointerHeld) && event.detail.elt.hasAttribute("data-live")) {
    event.preventDefault();
  }
});
let pointerHeld = false;
document.addEventListener("pointerdown", () => { pointerHeld = true; });
["pointerup", "pointercancel"].forEach((type) => document.addEventListener(type, () => { pointerHeld = false; }));
window.addEventListener("blur", () => { pointerHeld = false; }); // released outside the window

// An idle live refresh is answered 304, and the browser hands htmx its cached copy as a 200:
// the same content, which htmx would swap in again (a 2,000-step graph drawn anew at every
// refresh, and gone from the page for a moment each time). A region keeps what it shows
// while the answer carries the tag of it (data-live-tag: its live part's ETag).
document.addEventListener("htmx:beforeSwap", (event) => {
  const region = event.detail.target;
  const tag = event.detail.xhr.getResponseHeader("ETag");
  if (!tag || !region?.hasAttribute?.("data-live")) return;
  if (event.detail.elt === region && tag === region.dataset.liveTag) event.detail.shouldSwap = false;
  else region.dataset.liveTag = tag; // the runs list's rows are swapped inside their element
});

// A live refresh keeps the reader's place: the focused element, else the first one with an id
// in view, stays where it was on screen, so rows arriving above it or a graph drawn anew never
// move what is being read. At the very top of the page, new rows simply show.
let liveAnchor = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  if (!event.detail.elt.hasAttribute?.("data-live") || !event.detail.shouldSwap) return;
  if (pointerHeld) {
    event.detail.shouldSwap = false; // mid-drag: the next refresh shows it
    return;
  }
  const region = event.detail.target;
  const active = document.activeElement;
  const focused = active?.id && region.contains(active) ? active : null;
  liveAnchor = null;
  if (!focused && window.scrollY === 0) return;
  const anchor = focused || [...region.querySelectorAll("[id]")].find((element) => {
    const box = element.getBoundingClientRect();
    return box.height > 0 && box.top >= 0;
  });
  liveAnchor = anchor ? { id: anchor.id, top: anchor.getBoundingClientRect().top } : { y: window.scrollY };
});
document.addEventListener("htmx:afterSettle", () => {
  if (!liveAnchor) return;
  const again = liveAnchor.id && document.getElementById(liveAnchor.id);
  if (again) window.scrollBy(0, again.getBoundingClientRect().top - liveAnchor.top);
  else if (liveAnchor.y !== undefined) window.scrollTo(0, liveAnchor.y);
  liveAnchor = null;
});

// "Updated N s ago" beside a live view, and a pause control for reading without movement.
let livePaused = false;
let liveAt = Date.now();
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.elt.hasAttribute("data-live") && event.detail.successful) liveAt = Date.now();
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-live-pause]");
  if (!button) return;
  livePaused = !livePaused;
  button.setAttribute("aria-pressed", String(livePaused));
  button.textContent = say(livePaused ? "resume" : "pause");
  showLiveAge();
});
function showLiveAge() {
  const age = document.querySelector("[data-live-age]");
  if (!age) return;
  const seconds = Math.round((Date.now() - liveAt) / 1000);
  age.textContent = say(livePaused ? "paused" : "updated", seconds);
}
setInterval(showLiveAge, 1000);

// Times default to the browser's zone until the reader picks one.
if (!document.cookie.split("; ").some((c) => c.startsWith("tz="))) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.cookie = `tz=${encodeURIComponent(zone)}; max-age=31536000; path=/; samesite=lax`;
}
// A date typed in means a custom window, whatever the window menu said: set before the form
// is sent, by a plain submit or by htmx (hence the capture phase).
document.addEventListener("change", (event) => {
  const form = event.target.form;
  if (event.target.type === "date" && form?.elements.window) form.elements.window.value = "custom";
}, true);
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-autosubmit]");
  if (form) form.submit();
});

// "/" jumps to the page's search box (the top bar's "find a run" where the page has none),
// as in most tools; typing in a field is left alone.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.target.closest("input, textarea, select, [contenteditable]")) return;
  const search = document.querySelector('main input[type="search"]') || document.querySelector('input[type="search"]');
  if (search) {
    event.preventDefault();
    search.focus();
  }
});
// Enter in a search box loads the page itself rather than refreshing the list in place: a
// pasted vendor id then opens its run (the server redirects when exactly one run has it).
document.addEventListener("keydown", (event) => {
  const box = event.target.closest?.('input[type="search"][name="q"]');
  if (event.key !== "Enter" || !box?.form || event.isComposing) return;
  event.preventDefault();
  box.form.submit();
});

// A filter's dropdown names what is ticked in it as soon as it changes (the list refreshes
// in place; the form itself is not redrawn).
document.addEventListener("change", (event) => {
  const menu = event.target.closest("details.choices");
  if (!menu) return;
  const ticked = [...menu.querySelectorAll("input:checked")].map((box) => box.parentElement.textContent.trim());
  menu.querySelector(".picked").textContent = ticked.join(", ") || say("any");
});

// Buttons marked data-show-errors show the server's explanation of a failure (say, the task
// queue is down) where the answer would have gone, instead of nothing happening.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.isError && event.detail.elt.hasAttribute("data-show-errors")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false; // handled: shown to the reader
  }
});

// A log opens at the error that ended it (the server says which line), else at its tail, and
// the page follows: that line is brought into the window and focused, so eyes and keyboard
// are where the log opened. "find" marks the lines that hold the text and jumps to the first.
document.addEventListener("htmx:afterSwap", (event) => {
  const log = event.detail.target.querySelector("[data-log-tail]");
  if (!log) return;
  const error = log.dataset.openAt && document.getElementById(log.dataset.openAt);
  if (error) {
    error.tabIndex = -1;
    error.focus({ preventScroll: true });
    error.scrollIntoView({ block: "center" });
  } else {
    log.scrollTop = log.scrollHeight;
    log.focus({ preventScroll: true });
    log.scrollIntoView({ block: "nearest" });
  }
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
  document.querySelector("[data-log-count]").textContent = wanted ? say(count === 1 ? "line" : "lines", count) : "";
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
  const minimap = startMinimap(svg);
  dagView = svgPanZoom(svg, { fit: true, center: true, minZoom: 0.02, maxZoom: 50,
    dblClickZoomEnabled: false, zoomScaleSensitivity: 0.3, onUpdatedCTM: minimap });
  if (dagKept) {
    // the same scale as before, though the new drawing may be a little larger or smaller
    dagView.zoom((dagView.getZoom() * dagKept.scale) / dagView.getSizes().realZoom);
    dagView.pan(dagKept.pan);
  } else fitDag();
  markFound();
}

// The minimap: the whole graph small in a corner, the part in view outlined; a click there
// brings that part into view. A copy made before svg-pan-zoom takes the drawing over, so it
// keeps graphviz's viewBox, the coordinates the viewer's matrix maps from. Returns what
// svg-pan-zoom calls with its matrix after each change.
function startMinimap(svg) {
  const copy = svg.cloneNode(true);
  copy.removeAttribute("id");
  copy.querySelectorAll("[id]").forEach((element) => element.removeAttribute("id"));
  copy.querySelectorAll("a").forEach((link) => link.replaceWith(...link.childNodes)); // no links
  copy.setAttribute("aria-hidden", "true");
  const seen = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  seen.setAttribute("class", "seen");
  copy.appendChild(seen);
  const box = document.createElement("div");
  box.className = "dag-minimap";
  box.title = say("minimap");
  box.appendChild(copy);
  svg.closest("[data-dag-view]").appendChild(box);
  copy.addEventListener("click", (event) => {
    panTo(new DOMPoint(event.clientX, event.clientY).matrixTransform(copy.getScreenCTM().inverse()));
  });
  return (matrix) => {
    const sizes = dagView.getSizes();
    seen.setAttribute("x", -matrix.e / matrix.a);
    seen.setAttribute("y", -matrix.f / matrix.a);
    seen.setAttribute("width", sizes.width / matrix.a);
    seen.setAttribute("height", sizes.height / matrix.a);
    // shown only while part of the graph is out of view
    box.hidden = matrix.a * sizes.viewBox.width <= sizes.width + 1 && matrix.a * sizes.viewBox.height <= sizes.height + 1;
  };
}

// the whole graph in view, but never drawn larger than life
function fitDag() {
  dagView.fit();
  if (dagView.getSizes().realZoom > 1) dagView.zoom(dagView.getZoom() / dagView.getSizes().realZoom);
  dagView.center();
}

// Computed in the graph's own coordinates: svg-pan-zoom applies a zoom on the next frame, so
// the node's place on screen is not yet where the zoom puts it.
function centreOn(node) {
  if (dagView.getSizes().realZoom < 1) dagView.zoom(dagView.getZoom() / dagView.getSizes().realZoom);
  const viewport = node.closest(".svg-pan-zoom_viewport");
  const box = node.getBBox();
  panTo(new DOMPoint(box.x + box.width / 2, box.y + box.height / 2)
    .matrixTransform(viewport.getCTM().inverse().multiply(node.getCTM())));
}

// a point of the drawing (graphviz's coordinates) to the middle of the frame
function panTo(point) {
  const sizes = dagView.getSizes();
  dagView.pan({ x: sizes.width / 2 - point.x * sizes.realZoom, y: sizes.height / 2 - point.y * sizes.realZoom });
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
  else if (action === "failing") {
    centreOn(document.getElementById(button.dataset.dagNode));
    button.closest("[data-dag]").scrollIntoView({ block: "nearest" });
  }
});
// A drag that starts on a step pans the graph; only a click (the pointer barely moved) opens
// the step.
let dagPressedAt = null;
document.addEventListener("pointerdown", (event) => {
  dagPressedAt = event.target.closest("[data-dag-view]") ? { x: event.clientX, y: event.clientY } : null;
});
document.addEventListener("click", (event) => {
  if (!dagPressedAt || !event.target.closest("[data-dag-view] a")) return;
  if (Math.hypot(event.clientX - dagPressedAt.x, event.clientY - dagPressedAt.y) > 5) event.preventDefault();
  dagPressedAt = null;
}, true);

// outline the steps whose name holds the find box's text; the box survives a live refresh
// (hx-preserve), so the new drawing is marked again
function markFound() {
  const wanted = (document.querySelector("[data-dag-find]")?.value || "").trim().toLowerCase();
  const found = [];
  document.querySelectorAll("[data-dag-view] > svg g.node").forEach((node) => {
    const hit = wanted !== "" && node.textContent.toLowerCase().includes(wanted);
    node.classList.toggle("found", hit);
    if (hit) found.push(node);
  });
  const count = document.querySelector("[data-dag-count]");
  if (count) count.textContent = wanted ? say("found", found.length) : "";
  return found;
}
document.addEventListener("input", (event) => {
  if (!event.target.matches("[data-dag-find]") || !dagView) return;
  const found = markFound();
  if (found.length) centreOn(found[0]);
});

// A dropdown of checkboxes closes on a click elsewhere or on Escape, as a menu does.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.dropdown[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.open = false;
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = event.target.closest?.("details.dropdown[open]");
  if (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});

// A rule's form shows the fields its kind uses (a stale backend has no definition or streak).
function showRuleFields(form) {
  const kind = form.elements.kind?.value;
  form.querySelectorAll("[data-kinds]").forEach((field) => {
    field.closest("form > div").hidden = Boolean(kind) && !field.dataset.kinds.split(" ").includes(kind);
  });
}
document.addEventListener("change", (event) => {
  if (event.target.name === "kind" && event.target.form) showRuleFields(event.target.form);
});
document.querySelectorAll("form.edit").forEach(showRuleFields);
