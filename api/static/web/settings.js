/* Operator settings: as a threshold or rule changes, measure the proposed policy with the
   simulate API and move the chart's "proposed" marker. */
"use strict";
(() => {
  const form = document.getElementById("policy-form");
  if (!form) return;
  const { api } = window.Mod;
  const curves = JSON.parse(document.getElementById("curves").textContent);
  const chart = document.getElementById("chart");
  const chartSelect = document.getElementById("chart-category");
  const live = document.getElementById("effect-live");
  const plot = { x0: +chart.dataset.x0, y0: +chart.dataset.y0, w: +chart.dataset.w, h: +chart.dataset.h };
  const sliders = [...form.querySelectorAll('input[type="range"]')];
  const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
  const words = (text) => [...new Set(text.split(/[\n,]/).map((w) => w.trim()).filter(Boolean))];
  let timer = 0;
  let inflight = null;

  function policy() {
    const thresholds = {};
    sliders.forEach((s) => { thresholds[s.dataset.category] = Number(s.value); });
    const links = form.elements.max_links.value.trim();
    return {
      thresholds,
      blocked_words: words(form.elements.blocked_words.value),
      suspect_words: words(form.elements.suspect_words.value),
      max_links: links === "" ? null : Number(links),
      premoderation: form.elements.premoderation.checked,
      other_languages: form.elements.other_languages.value,
      languages: languages(),
    };
  }

  // One rule per row of the languages table: its action and its thresholds.
  function languages() {
    const out = {};
    form.querySelectorAll("tr[data-language]").forEach((row) => {
      const code = row.dataset.language;
      const thresholds = {};
      row.querySelectorAll('input[type="number"]').forEach((input) => {
        const category = input.name.slice(`language-${code}-threshold-`.length);
        if (input.value.trim() !== "") thresholds[category] = Number(input.value);
      });
      out[code] = { action: row.querySelector("select").value, thresholds };
    });
    return out;
  }

  function path(curve, key) {
    let d = "";
    let penUp = true;
    for (const point of curve) {
      const value = point[key];
      if (value === null || value === undefined) { penUp = true; continue; }
      const x = plot.x0 + point.threshold * plot.w;
      const y = plot.y0 + (1 - value) * plot.h;
      d += `${penUp ? "M" : "L"}${x.toFixed(1)} ${y.toFixed(1)} `;
      penUp = false;
    }
    return d.trim();
  }

  // The label goes on the side of the line nearer the middle, so it stays inside the plot
  // (the same rule as present.marker_label); "now" and "proposed" label different rows.
  function place(marker, threshold) {
    marker.setAttribute("transform", `translate(${(plot.x0 + threshold * plot.w).toFixed(1)} 0)`);
    const label = marker.querySelector("text");
    const towardLeft = threshold > 0.5;
    label.setAttribute("x", towardLeft ? "-3" : "3");
    label.setAttribute("text-anchor", towardLeft ? "end" : "start");
  }

  function drawChart() {
    const category = chartSelect.value;
    const curve = curves[category] || [];
    chart.querySelector(".precision").setAttribute("d", path(curve, "precision"));
    chart.querySelector(".recall").setAttribute("d", path(curve, "recall"));
    const slider = form.elements[`threshold-${category}`];
    place(chart.querySelector(".current"), Number(slider.dataset.current));
    place(chart.querySelector(".proposed"), Number(slider.value));
    const name = chartSelect.selectedOptions[0].textContent;
    chart.querySelector("title").textContent =
      `Precision and recall of holds against the ${name} threshold: now ${slider.dataset.current}, proposed ${Number(slider.value).toFixed(2)}`;
  }

  async function simulate() {
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const site = encodeURIComponent(form.dataset.site);
    try {
      const result = await api("POST", `/v1/sites/${site}/policy/simulate`, { policy: policy() }, inflight.signal);
      const proposed = result.proposed.overall;
      const summary = [];
      form.querySelectorAll("[data-metric]").forEach((row) => {
        const key = row.dataset.metric;
        row.querySelector("[data-now]").textContent = pct(result.current[key]);
        row.querySelector("[data-proposed]").textContent = pct(proposed[key]);
        row.classList.toggle("changed", proposed[key] !== result.current[key]);
        summary.push(`${row.querySelector("th").firstChild.textContent} ${pct(proposed[key])}`);
      });
      for (const [category, figures] of Object.entries(result.proposed.categories)) {
        const held = document.getElementById(`held-${category}`);
        if (held) held.textContent = `holds ${pct(figures.hold_rate)}`;
      }
      live.textContent = `Proposed: ${summary.join(", ")}.`;
    } catch (err) {
      if (err.name !== "AbortError") live.textContent = `Could not measure the proposal: ${err.message}`;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(simulate, 150);
  }

  form.addEventListener("input", (event) => {
    const target = event.target;
    if (target === chartSelect) return;
    if (target.type === "range") {
      document.getElementById(`out-${target.dataset.category}`).textContent = Number(target.value).toFixed(2);
      chartSelect.value = target.dataset.category;
      drawChart();
    }
    schedule();
  });
  form.addEventListener("focusin", (event) => {
    if (event.target.type === "range" && chartSelect.value !== event.target.dataset.category) {
      chartSelect.value = event.target.dataset.category;
      drawChart();
    }
  });
  chartSelect.addEventListener("change", drawChart);
})();
