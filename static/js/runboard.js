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
  if (form) form.submit();
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
