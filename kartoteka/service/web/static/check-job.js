// The batch check's progress: polls the job's JSON status every second and updates the bar.
// Screen readers hear it through a polite live region at every quarter and at the end, not every second.
"use strict";
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const url = root.dataset.statusUrl;
  const bar = document.getElementById("job-progress");
  const count = document.getElementById("job-count");
  const live = document.getElementById("job-live");
  const failure = document.getElementById("job-failure");
  const result = document.getElementById("job-result");
  const reload = document.getElementById("job-reload");
  const errors = document.getElementById("job-errors");
  let announced = -1;

  function showErrors(lines) {
    errors.replaceChildren();
    if (lines.length === 0) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = "None so far.";
      errors.append(li);
    }
    for (const line of lines) {
      const li = document.createElement("li");
      li.textContent = line;
      errors.append(li);
    }
  }

  function update(s) {
    bar.max = s.total || 1;
    bar.value = s.total ? s.done : 1;
    bar.textContent = `${s.done} of ${s.total}`;
    const ended = s.state === "done" ? ": finished" : s.state === "failed" ? ": stopped" : "";
    count.textContent = `${s.done} of ${s.total} names checked${ended}.`;
    const quarter = s.total ? Math.floor((4 * s.done) / s.total) : 4;
    if (s.state === "done") {
      live.textContent = `Batch check finished: ${s.done} of ${s.total} names checked.`;
    } else if (s.state === "failed") {
      live.textContent = `Batch check stopped: ${s.failure}`;
    } else if (quarter !== announced) {
      live.textContent = `${s.done} of ${s.total} names checked.`;
    }
    announced = quarter;
    failure.textContent = s.failure;
    failure.hidden = !s.failure;
    result.hidden = s.state !== "done";
    reload.hidden = s.state === "done" || s.state === "failed";
    showErrors(s.errors);
    return s.state === "done" || s.state === "failed";
  }

  async function poll() {
    try {
      const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (r.ok && update(await r.json())) return;
    } catch (e) {
      // A lost connection: try again at the next tick.
    }
    window.setTimeout(poll, 1000);
  }
  poll();
})();
