// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // Ask before destructive actions (CSP forbids inline handlers, hence data-confirm).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // Poll a job's progress until it is done.
  const job = document.querySelector("[data-progress-url]");
  if (job) pollJob(job);
});

async function pollJob(section) {
  const set = (name, fn) => { const el = section.querySelector(`[data-job="${name}"]`); if (el) fn(el); };
  for (;;) {
    const response = await fetch(section.dataset.progressUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const run = await response.json();
    set("status", (el) => { el.innerHTML = ""; const b = document.createElement("span"); b.className = `badge badge-${run.status}`; b.textContent = run.status_label || run.status; el.append(b); });
    set("bar", (el) => { if (run.percent !== null) el.value = run.percent; });
    set("message", (el) => { el.textContent = run.message || ""; });
    set("error", (el) => { el.textContent = run.error || ""; });
    set("counts", (el) => {
      el.innerHTML = "";
      for (const [name, n] of Object.entries(run.counts || {})) {
        const dt = document.createElement("dt"); dt.textContent = name;
        const dd = document.createElement("dd"); dd.textContent = n;
        el.append(dt, dd);
      }
    });
    if (run.done) {
      // A page that shows the finished result (e.g. an import) asks to be reloaded.
      if (section.hasAttribute("data-reload-when-done")) window.location.reload();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// "Select all on this page" for a table of documents.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("input[data-select-all]")) {
    box.addEventListener("change", () => {
      for (const item of box.closest("form").querySelectorAll('input[name="ids"]')) item.checked = box.checked;
    });
  }
});

// The invoice list's totals and page count: a sum over the whole filter, so a request of
// its own after the rows (invoices.totals). Without this, or when it fails, the
// placeholder's link leads to that page.
document.addEventListener("DOMContentLoaded", () => {
  const slot = document.querySelector("[data-totals-from]");
  if (slot) fillTotals(slot);
});

async function fillTotals(slot) {
  let page;
  try {
    const response = await fetch(slot.dataset.totalsFrom, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    page = new DOMParser().parseFromString(await response.text(), "text/html");
  } catch {
    return;
  }
  // A login page (the session ended) has no totals: the link stays.
  const totals = page.querySelector("section.totals[data-totals]");
  if (!totals) return;
  slot.replaceChildren(document.importNode(totals, true));
  const position = document.querySelector('.pager [data-pager="position"]');
  const counted = [...page.querySelectorAll('[data-pager="position"], [data-pager="count"]')];
  if (position && counted.length) position.replaceWith(...counted.map((node) => document.importNode(node, true)));
}
